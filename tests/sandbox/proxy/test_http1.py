"""HTTP/1.1 head parsing of the service proxy: what goes upstream, how bodies end."""

from __future__ import annotations

import pytest

from slagate.errors import ProxyRefused, UpstreamBroken
from slagate.sandbox.proxy.http1 import (
    Framing,
    parse_request,
    parse_response,
    simple_response,
)


def test_request_head_is_forwarded_without_hop_by_hop_headers() -> None:
    raw = (
        b"GET /orders?x=1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
        b"Keep-Alive: timeout=5\r\nX-Trace: 7\r\n\r\n"
    )

    request = parse_request(raw)

    assert request.head == b"GET /orders?x=1 HTTP/1.1\r\nHost: a\r\nX-Trace: 7\r\n\r\n"
    assert (request.method, request.framing, request.keep_alive) == (b"GET", Framing.NONE, True)
    assert request.idempotent


@pytest.mark.parametrize(
    ("raw", "framing", "length", "keep_alive"),
    [
        pytest.param(
            b"POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n", Framing.LENGTH, 12, True, id="length"
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n", Framing.NONE, 0, True, id="empty"
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            Framing.CHUNKED,
            -1,
            True,
            id="chunked",
        ),
        pytest.param(
            b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", Framing.NONE, -1, False, id="close"
        ),
        pytest.param(b"GET / HTTP/1.0\r\n\r\n", Framing.NONE, -1, False, id="http10"),
        pytest.param(
            b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
            Framing.NONE,
            -1,
            True,
            id="http10-keep",
        ),
    ],
)
def test_request_framing(raw: bytes, framing: Framing, length: int, keep_alive: bool) -> None:
    request = parse_request(raw)

    assert (request.framing, request.length, request.keep_alive) == (framing, length, keep_alive)


def test_http10_request_goes_upstream_as_http11() -> None:
    assert (
        parse_request(b"GET / HTTP/1.0\r\nHost: a\r\n\r\n").head
        == b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    )


def test_expect_continue_is_answered_by_the_proxy_not_forwarded() -> None:
    request = parse_request(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")

    assert request.expects_continue
    assert b"expect" not in request.head.lower()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"GET /\r\n\r\n", 400, id="no-version"),
        pytest.param(b"GET / HTTP/2.0\r\n\r\n", 505, id="http2"),
        pytest.param(b"CONNECT a:443 HTTP/1.1\r\n\r\n", 501, id="connect"),
        pytest.param(b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, id="bad-header"),
        pytest.param(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, id="space-before-colon"),
        pytest.param(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, id="bad-length"),
        pytest.param(
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
            id="two-lengths",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            id="smuggling",
        ),
        pytest.param(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, id="gzip-coding"),
    ],
)
def test_malformed_requests_are_refused(raw: bytes, status: int) -> None:
    with pytest.raises(ProxyRefused) as caught:
        parse_request(raw)

    assert caught.value.status == status


@pytest.mark.parametrize(
    ("raw", "head_request", "framing", "keep_alive"),
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
            False,
            Framing.LENGTH,
            True,
            id="length",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            False,
            Framing.CHUNKED,
            True,
            id="chunked",
        ),
        pytest.param(b"HTTP/1.1 200 OK\r\n\r\n", False, Framing.CLOSE, False, id="until-eof"),
        pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", False, Framing.NONE, True, id="204"),
        pytest.param(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
            False,
            Framing.NONE,
            True,
            id="304",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", True, Framing.NONE, True, id="head"
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            False,
            Framing.LENGTH,
            False,
            id="close",
        ),
        pytest.param(
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
            False,
            Framing.LENGTH,
            False,
            id="http10",
        ),
    ],
)
def test_response_framing(
    raw: bytes, head_request: bool, framing: Framing, keep_alive: bool
) -> None:
    response = parse_response(raw, head_request)

    assert (response.framing, response.keep_alive) == (framing, keep_alive)


def test_response_head_drops_connection_headers_and_the_blank_line() -> None:
    raw = b"HTTP/1.1 201 Created\r\nConnection: keep-alive\r\nContent-Length: 2\r\nX-A: 1\r\n\r\n"

    response = parse_response(raw, head_request=False)

    assert response.status == 201
    assert response.head == b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: 1"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"SSH-2.0-OpenSSH\r\n\r\n", id="not-http"),
        pytest.param(b"HTTP/1.1 2x0 OK\r\n\r\n", id="bad-status"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", id="bad-length"),
    ],
)
def test_broken_upstream_responses(raw: bytes) -> None:
    with pytest.raises(UpstreamBroken):
        parse_response(raw, head_request=False)


def test_proxy_made_responses_are_marked() -> None:
    response = simple_response(503, "Service Unavailable", b"no healthy upstream", keep_alive=True)

    assert response == (
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
        b"content-length: 19\r\nconnection: keep-alive\r\nx-slagate-proxy: 1\r\n\r\n"
        b"no healthy upstream"
    )
