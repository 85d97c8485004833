"""The service proxy core against real HTTP servers on loopback (no cluster).

The proxy runs on an asyncio loop in a background thread; endpoints are fed to it
directly (``ServiceProxy.set_endpoints``), as the informers would. Clients are plain
``http.client`` connections, so framing is checked by an independent HTTP parser.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest

from slagate.sandbox.proxy import ServiceKey, ServicePort, ServiceProxy, endpoint_map
from slagate.sandbox.proxy.upstreams import Balancing

T = TypeVar("T")
SERVICE = ServiceKey("default", "web")
DELAY_S = 0.4


class Upstream(ThreadingHTTPServer):
    """A pod: answers with its name; records what it received."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name = name
        self.paths: list[str] = []
        self.bodies: list[bytes] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.path == "/chunked":
            self._chunked([b"alpha-", b"beta-", self.server.name.encode()])
        elif self.path == "/until-eof":
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 100_000)
        else:
            self._reply(self.server.name.encode())

    def do_POST(self) -> None:
        self.server.paths.append(self.path)
        body = self._read_body()
        self.server.bodies.append(body)
        if self.path == "/drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._reply(self.server.name.encode() + b":" + body, status=201)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while size := int(self.rfile.readline().strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return body
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _reply(self, body: bytes, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunked(self, parts: list[bytes]) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in parts:
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopThread:
    """An asyncio loop in a thread; ``run`` executes a coroutine on it and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever)
        self._thread.start()

    def run(self, make: Callable[[], Coroutine[Any, Any, T]], timeout_s: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout_s)

    def call(self, function: Callable[[], T]) -> T:
        async def call() -> T:
            return function()

        return self.run(call)

    def close(self) -> None:
        self.run(_cancel_others)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


async def _cancel_others() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for _ in range(3):  # let closed transports finish closing
        await asyncio.sleep(0)


class Harness:
    def __init__(self, loop: LoopThread, proxy: ServiceProxy) -> None:
        self.loop = loop
        self.proxy = proxy
        self.port = loop.run(lambda: proxy.open_service(SERVICE, [ServicePort("http", 80)]))["http"]

    def route(self, *upstreams: Upstream | int) -> float:
        """Schedule routing to ``upstreams`` (servers or bare ports); the time it was pushed."""
        ports = [u.port if isinstance(u, Upstream) else u for u in upstreams]
        endpoints = endpoint_map({"http": [("127.0.0.1", port) for port in ports]})
        pushed = time.monotonic()
        self.loop.call(lambda: self.proxy.set_endpoints(SERVICE, endpoints))
        return pushed

    def routed(self) -> set[int]:
        return {
            int(e.rsplit(":", 1)[1])
            for e in self.loop.call(lambda: self.proxy.routed(SERVICE, "http"))
        }

    def wait_routed(self, *upstreams: Upstream, timeout_s: float = 5.0) -> None:
        wanted = {u.port for u in upstreams}
        deadline = time.monotonic() + timeout_s
        while self.routed() != wanted:
            assert time.monotonic() < deadline, f"routing never became {wanted}"
            time.sleep(0.01)

    def client(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)


@pytest.fixture
def upstreams() -> Iterator[tuple[Upstream, Upstream]]:
    a, b = Upstream("a"), Upstream("b")
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def harness() -> Iterator[Harness]:
    loop = LoopThread()
    proxy = ServiceProxy(DELAY_S, balancing=Balancing.ROUND_ROBIN)
    try:
        yield Harness(loop, proxy)
    finally:
        loop.run(proxy.close)
        loop.close()


def get(client: http.client.HTTPConnection, path: str = "/") -> tuple[int, bytes]:
    client.request("GET", path)
    response = client.getresponse()
    return response.status, response.read()


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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    harness.route(closed_port)
    while harness.routed() != {closed_port}:
        time.sleep(0.01)
    client = harness.client()

    status, body = get(client)
    client.close()

    assert (status, body) == (503, b"upstream connect error or disconnect/reset before headers")
    assert harness.proxy.stats.upstream_errors == 1
