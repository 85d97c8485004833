"""The API server's own certificate: valid for loopback, trusted through its authority only."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from slagate.sandbox.apiserver.certificates import ServingCertificate, issue_certificate


@pytest.fixture(scope="module")
def certificate() -> ServingCertificate:
    return issue_certificate()


@pytest.fixture
def tls_port(certificate: ServingCertificate) -> Iterator[int]:
    """A TLS listener on 127.0.0.1 that completes handshakes and hangs up."""
    context = certificate.server_context()
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            while True:
                plain, _ = listener.accept()
                try:
                    with context.wrap_socket(plain, server_side=True):
                        pass
                except (ssl.SSLError, OSError):
                    pass
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
    listener.close()
    thread.join(5)


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_a_client_trusting_the_authority_accepts_it_for_loopback(
    certificate: ServingCertificate, tls_port: int, name: str
) -> None:
    client = certificate.client_context()
    with (
        socket.create_connection(("127.0.0.1", tls_port), timeout=5) as plain,
        client.wrap_socket(plain, server_hostname=name) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_another_name_or_another_authority_is_refused(
    certificate: ServingCertificate, tls_port: int
) -> None:
    strangers = issue_certificate().client_context()
    for client, name in ((certificate.client_context(), "example.com"), (strangers, "127.0.0.1")):
        with (
            socket.create_connection(("127.0.0.1", tls_port), timeout=5) as plain,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            client.wrap_socket(plain, server_hostname=name)


def test_the_key_stays_out_of_repr(certificate: ServingCertificate) -> None:
    assert b"PRIVATE KEY" in certificate.key_pem
    assert "PRIVATE" not in repr(certificate)
    assert certificate.chain_pem.endswith(certificate.authority_pem)
