"""The service proxy core against real HTTP servers on loopback (no cluster).

The proxy runs on an asyncio loop in a background thread; endpoints are fed to it
directly (``ServiceProxy.set_endpoints``), as the informers would. Clients are plain
``http.client`` connections, so framing is checked by an independent HTTP parser.
"""

from __future__ import annotations

import socket
import time

from tests.sandbox.proxy.harness import DELAY_S, Harness, Upstream, get


def test_each_request_on_one_keep_alive_connection_is_balanced(
    harness: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    harness.route(*upstreams)
    harness.wait_routed(*upstreams)
    client = harness.client()

    bodies = [get(client)[1] for _ in range(6)]
    client.close()

    assert sorted(bodies) == [b"a", b"a", b"a", b"b", b"b", b"b"]
    assert harness.proxy.stats.client_connections == 1


def test_a_removed_endpoint_gets_requests_until_the_delay_has_passed(
    harness: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    harness.route(a, b)
    harness.wait_routed(a, b)
    client = harness.client()

    removed_at = harness.route(a)
    early = [get(client)[1] for _ in range(4)]
    while harness.routed() != {a.port}:
        time.sleep(0.01)
    switched_after = time.monotonic() - removed_at
    late = [get(client)[1] for _ in range(4)]
    client.close()

    assert b"b" in early
    assert DELAY_S <= switched_after < DELAY_S + 0.5
    assert late == [b"a"] * 4


def test_an_added_endpoint_gets_no_request_before_the_delay(
    harness: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    harness.route(a)
    harness.wait_routed(a)
    client = harness.client()

    harness.route(a, b)
    early = [get(client)[1] for _ in range(4)]
    harness.wait_routed(a, b)
    late = [get(client)[1] for _ in range(4)]
    client.close()

    assert early == [b"a"] * 4
    assert sorted(late) == [b"a", b"a", b"b", b"b"]


def test_a_pod_that_stopped_listening_fails_requests_until_the_delay_passes(
    harness: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    harness.route(a, b)
    harness.wait_routed(a, b)
    client = harness.client()
    b.stop()  # no preStop: the process exits while the proxy still routes to it

    harness.route(a)
    early = []
    for _ in range(4):
        client.request("GET", "/")
        response = client.getresponse()
        early.append((response.status, response.read(), response.getheader("x-slagate-proxy")))
    harness.wait_routed(a)
    late = [get(client) for _ in range(4)]
    client.close()

    refused = (503, b"upstream connect error or disconnect/reset before headers", "1")
    assert sorted(early) == [(200, b"a", None)] * 2 + [refused] * 2
    assert late == [(200, b"a")] * 4


def test_no_ready_endpoint_answers_no_healthy_upstream(harness: Harness) -> None:
    client = harness.client()

    client.request("POST", "/orders", body=b'{"product_id": 1}')
    response = client.getresponse()
    first = (response.status, response.read(), response.getheader("x-slagate-proxy"))
    again = get(client)  # the body was consumed: the connection is still usable
    client.close()

    assert first == (503, b"no healthy upstream", "1")
    assert again == (503, b"no healthy upstream")


def test_post_bodies_with_length_and_chunked_reach_the_upstream(
    harness: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, _ = upstreams
    harness.route(a)
    harness.wait_routed(a)
    client = harness.client()
    big = b"x" * 300_000

    answers = []
    for body, chunked in ((b'{"q": 1}', False), (big, False), (iter([b"part1-", b"part2"]), True)):
        client.request("POST", "/orders", body=body, encode_chunked=chunked)
        response = client.getresponse()
        answers.append((response.status, len(response.read())))
    client.close()

    assert a.bodies == [b'{"q": 1}', big, b"part1-part2"]
    assert answers == [(201, 10), (201, 2 + len(big)), (201, 13)]


def test_chunked_and_close_delimited_responses_are_relayed(
    harness: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, _ = upstreams
    harness.route(a)
    harness.wait_routed(a)
    client = harness.client()

    chunked = get(client, "/chunked")
    until_eof = get(client, "/until-eof")
    client.close()

    assert chunked == (200, b"alpha-beta-a")
    assert until_eof == (200, b"x" * 100_000)


def test_http10_client_gets_a_dechunked_body(
    harness: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, _ = upstreams
    harness.route(a)
    harness.wait_routed(a)

    with socket.create_connection(("127.0.0.1", harness.port), timeout=5) as conn:
        conn.sendall(b"GET /chunked HTTP/1.0\r\n\r\n")
        received = b""
        while data := conn.recv(65536):
            received += data

    head, _, body = received.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert b"transfer-encoding" not in head.lower()
    assert body == b"alpha-beta-a"


def test_a_post_is_never_retried(harness: Harness, upstreams: tuple[Upstream, Upstream]) -> None:
    a, _ = upstreams
    harness.route(a)
    harness.wait_routed(a)
    client = harness.client()

    client.request("POST", "/drop", body=b"once")
    response = client.getresponse()
    body = response.read()
    client.close()

    assert (response.status, body) == (
        503,
        b"upstream connect error or disconnect/reset before headers",
    )
    assert a.bodies == [b"once"]


def test_a_refused_endpoint_yields_503(harness: Harness) -> None:
    harness.route_to_a_closed_port()
    client = harness.client()

    status, body = get(client)
    client.close()

    assert (status, body) == (503, b"upstream connect error or disconnect/reset before headers")
    assert harness.proxy.stats.upstream_errors == 1
