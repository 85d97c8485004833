"""The sandbox API server: ``Api`` behind a threaded HTTP/1.1 server on loopback.

Why ``http.server.ThreadingHTTPServer`` and not uvicorn/FastAPI: the store is a
thread-safe object with a ``threading.Condition`` that controllers (threads) share, and
a watch is a blocking wait on that condition. One thread per connection keeps a single
concurrency model end to end: no bridge between asyncio and the condition, no thread
pool limit capping concurrent watches, and a deterministic stop (cut every watch, shut
every socket, join). It costs a hand-written chunked encoder (ten lines) and no
dependency. Each ``ApiServer`` binds its own port (0 picks a free one), so sandboxes
run side by side.

    with ApiServer(ObjectStore()).start() as server:
        write_kubeconfig(path, server.url)
        ...
        server.cut_watches()            # fault injection: end every open watch
        server.request_counts()         # {("deployments", "watch"): 2, ...}
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slagate.errors import BadRequest, SandboxError
from slagate.sandbox.apiserver.access import AccessPolicy
from slagate.sandbox.apiserver.api import Api
from slagate.sandbox.apiserver.messages import Request, Response, WatchPlan
from slagate.sandbox.apiserver.statuses import failure_status
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watchstream import StreamEnd, StreamTiming, stream_watch

logger = logging.getLogger(__name__)
_MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ApiServerSettings:
    """``host``: loopback only by design. ``port``: 0 picks a free port.
    ``bookmark_interval_s``: BOOKMARK period for watches that allow them (upstream ~60).
    ``liveness_check_s``: how often an idle watch notices a client that hung up.
    ``stop_timeout_s``: how long ``stop()`` waits for connections to finish."""

    host: str = "127.0.0.1"
    port: int = 0
    bookmark_interval_s: float = 60.0
    liveness_check_s: float = 1.0
    stop_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.host != "localhost" and not _is_loopback(self.host):
            raise SandboxError(
                f"the sandbox API server listens on loopback only, not "
                f"{self.host!r}: it has no authentication; use 127.0.0.1"
            )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: Api, timing: StreamTiming) -> None:
        self.api = api
        self.timing = timing
        self.connections: set[socket.socket] = set()
        self.connections_changed = threading.Condition()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_changed:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self.connections_changed:
            self.connections.discard(request)
            self.connections_changed.notify_all()

    def drop_connections(self, timeout_s: float) -> None:
        """Shut every open socket (idle keep-alives too) and wait for handlers to end."""
        with self.connections_changed:
            for connection in list(self.connections):
                _shutdown(connection)
            self.connections_changed.wait_for(lambda: not self.connections, timeout_s)


def _shutdown(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK stall
    server: _HttpServer

    def do_GET(self) -> None:
        try:
            request = self._read_request()
        except BadRequest as error:
            self._respond(Response.from_error(error))
            return
        outcome = self.server.api.handle(request)
        if isinstance(outcome, Response):
            self._respond(outcome)
        else:
            self._stream(outcome)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_request(self) -> Request:
        url = urlsplit(self.path)
        headers = {key.lower(): value for key, value in self.headers.items()}
        return Request(
            self.command, url.path, dict(parse_qsl(url.query)), headers, self._read_body(headers)
        )

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as error:
            self.close_connection = True
            raise BadRequest("invalid Content-Length header") from error
        if not 0 <= length <= _MAX_BODY_BYTES:
            self.close_connection = True
            raise BadRequest(f"request body of {length} bytes is not acceptable")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def _respond(self, response: Response) -> None:
        payload = json.dumps(response.body, separators=(",", ":")).encode()
        self.send_response(response.status)
        self._json_headers()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _json_headers(self) -> None:
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")

    def _stream(self, plan: WatchPlan) -> None:
        self.send_response(200)
        self._json_headers()
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            end = stream_watch(plan, self, self.server.timing)
        finally:
            self.server.api.finish_watch(plan)
        self._finish_stream(end)

    def _finish_stream(self, end: StreamEnd) -> None:
        if end in (StreamEnd.CUT_ABRUPT, StreamEnd.CLIENT_GONE):
            self.close_connection = True
            _shutdown(self.connection)
            return
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    # LineSink, for stream_watch
    def send(self, line: bytes) -> None:
        self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        self.wfile.flush()

    def client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unknown method) as Status JSON."""
        self.close_connection = True
        reason = self.responses.get(code, ("Error", ""))[0].replace(" ", "")
        body = failure_status(code, reason, message or explain or reason, {})
        self._respond(Response(code, body))

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class ApiServer:
    """A running (after ``start()``) sandbox API server over ``store``.

    ``access`` answers SelfSubjectAccessReviews (allow all unless rules deny).
    """

    def __init__(
        self,
        store: ObjectStore | None = None,
        *,
        settings: ApiServerSettings | None = None,
        access: AccessPolicy | None = None,
    ) -> None:
        self.settings = settings or ApiServerSettings()
        self.store = store or ObjectStore()
        self.access = access or AccessPolicy()
        self.api = Api(self.store, self.access)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ApiServer:
        """Bind and serve in a background thread; ``SandboxError`` if the port is taken."""
        if self._httpd is not None:
            return self
        timing = StreamTiming(self.settings.bookmark_interval_s, self.settings.liveness_check_s)
        address = (self.settings.host, self.settings.port)
        try:
            self._httpd = _HttpServer(address, self.api, timing)
        except OSError as error:
            raise SandboxError(
                f"sandbox API server cannot listen on {address[0]}:"
                f"{address[1]}: {error}; pick another port or use 0"
            ) from error
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-api-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("sandbox API server listening on %s", self.url)
        return self

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise SandboxError("the sandbox API server is not started: call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def stop(self) -> None:
        """End every watch, close every connection, release the port. Idempotent."""
        httpd, thread, self._httpd, self._thread = self._httpd, self._thread, None, None
        if httpd is None or thread is None:
            return
        self.api.watches.close_all("stopped")
        httpd.shutdown()
        httpd.drop_connections(self.settings.stop_timeout_s)
        httpd.server_close()
        thread.join(self.settings.stop_timeout_s)

    def cut_watches(self, *, abrupt: bool = False) -> int:
        """Fault injection: end every open watch stream now; return how many.

        Clean (default) ends each body like a server-side timeout, so clients resume
        from their last resourceVersion; ``abrupt`` drops the connections mid-body.
        """
        return self.api.watches.close_all("cut-abrupt" if abrupt else "cut")

    @property
    def open_watches(self) -> int:
        return len(self.api.watches)

    def request_counts(self) -> dict[tuple[str, str], int]:
        """Requests served per (resource label, verb) since start or the last reset."""
        return self.api.requests.snapshot()

    def reset_request_counts(self) -> None:
        self.api.requests.reset()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_api_server(
    store: ObjectStore | None = None,
    *,
    settings: ApiServerSettings | None = None,
    access: AccessPolicy | None = None,
) -> ApiServer:
    """Create and start a server in a background thread; call ``stop()`` when done."""
    return ApiServer(store, settings=settings, access=access).start()
