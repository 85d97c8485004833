"""The sandbox API server's TLS: a throwaway certificate authority and a serving certificate.

Why TLS on loopback at all: kubectl (client-go) sends a kubeconfig's bearer token only over
TLS; against a plain ``http://`` server it leaves every credential out, so a server that
requires the token would lock kubectl out. Each server therefore makes, in memory, a
certificate authority and a certificate signed by it for ``127.0.0.1``, ``::1`` and
``localhost``, and the kubeconfig trusts that authority (``certificate-authority-data``),
as a kind or kubeadm cluster's does. The authority's key is dropped at once, so nothing
can sign another certificate; the serving key lives in the server's memory only (it is
written to a private temporary file for the moment ``ssl`` loads it, then deleted).
``cryptography`` (``slagate[sandbox]``) is imported when a certificate is issued, so that
importing the sandbox needs no extra.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

VALIDITY = timedelta(days=365)
"""How long the certificates are valid; a sandbox lives for hours."""

_BACKDATE = timedelta(minutes=5)
"""Tolerance for a client clock slightly behind the server's."""


@dataclass(frozen=True)
class ServingCertificate:
    """``authority_pem``: what clients trust (public). ``chain_pem``: the serving
    certificate then the authority's. ``key_pem``: the serving key (secret; kept out of
    ``repr``)."""

    authority_pem: bytes
    chain_pem: bytes
    key_pem: bytes = field(repr=False)

    def server_context(self) -> ssl.SSLContext:
        """A TLS 1.2+ server context serving this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="slagate-apiserver-") as folder:
            chain, key = Path(folder) / "chain.pem", Path(folder) / "key.pem"
            chain.write_bytes(self.chain_pem)
            key.touch(mode=0o600)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(chain, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this authority only (for tests and raw clients)."""
        return ssl.create_default_context(cadata=self.authority_pem.decode())


def issue_certificate(now: datetime | None = None) -> ServingCertificate:
    """A fresh authority and serving certificate for the loopback addresses."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = now or datetime.now(UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority_name = _name("slagate-sandbox-ca")
    authority = (
        _builder(authority_name, authority_name, authority_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signs=True), critical=True)
        .sign(authority_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        x509.DNSName("localhost"),
    ]
    serving = (
        _builder(_name("slagate-sandbox-apiserver"), authority_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signs=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    authority_pem = authority.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain_pem = serving.public_bytes(serialization.Encoding.PEM) + authority_pem
    return ServingCertificate(authority_pem, chain_pem, key_pem)


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    from cryptography import x509

    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _usage(*, signs: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs,
        crl_sign=signs,
        encipher_only=False,
        decipher_only=False,
    )
