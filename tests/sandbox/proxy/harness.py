"""The service proxy on a loop thread, and pods as plain HTTP servers on loopback.

Shared by the proxy's tests (fixtures in ``conftest.py``): endpoints are fed to the proxy
directly (``ServiceProxy.set_endpoints``), as the informers would; clients are plain
``http.client`` connections, so framing is checked by an independent HTTP parser.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from slagate.sandbox.proxy import ServiceKey, ServicePort, ServiceProxy, endpoint_map

T = TypeVar("T")
SERVICE = ServiceKey("default", "web")
DELAY_S = 0.4


class Upstream(ThreadingHTTPServer):
    """A pod: answers with its name; records what it received. ``host``: its pod IP."""

    daemon_threads = True

    def __init__(self, name: str, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.name = name
        self.host = host
        self.paths: list[str] = []
        self.bodies: list[bytes] = []
        self.status = 200
        """What plain GETs are answered with (a degraded pod: 500 or 503)."""
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
        elif self.path == "/fail":
            self._reply(b"boom", status=500)
        elif self.path == "/bye":  # answers, then closes its keep-alive connection
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"bye")
        elif self.path == "/slow":  # a pod that answers after 1 s
            time.sleep(1.0)
            self._reply(self.server.name.encode())
        elif self.path == "/until-eof":
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 100_000)
        else:
            self._reply(self.server.name.encode(), status=self.server.status)

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
        pairs = [
            (u.host, u.port) if isinstance(u, Upstream) else ("127.0.0.1", u) for u in upstreams
        ]
        endpoints = endpoint_map({"http": pairs})
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

    def route_to_a_closed_port(self) -> int:
        """Route to a port nothing listens on (a pod that stopped listening); that port."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = int(probe.getsockname()[1])
        self.route(closed_port)
        while self.routed() != {closed_port}:
            time.sleep(0.01)
        return closed_port

    def client(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)


def get(client: http.client.HTTPConnection, path: str = "/") -> tuple[int, bytes]:
    client.request("GET", path)
    response = client.getresponse()
    return response.status, response.read()
