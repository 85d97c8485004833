"""The sandbox API server: ``Api`` behind a threaded HTTP/1.1 server on loopback.

Why ``http.server.ThreadingHTTPServer`` and not uvicorn/FastAPI: the store is a
thread-safe object with a ``threading.Condition`` that controllers (threads) share, and
a watch is a blocking wait on that condition. One thread per connection keeps a single
concurrency model end to end: no bridge between asyncio and the condition, no thread
pool limit capping concurrent watches, and a deterministic stop (cut every watch, shut
every socket, join). It costs a hand-written chunked encoder (ten lines) and no
dependency. Each ``ApiServer`` binds its own port (0 picks a free one), so sandboxes
run side by side.

It speaks HTTPS with a certificate of its own (``certificates``: kubectl sends a token
over TLS only), and every request but ``/version`` must carry the server's bearer token
(``authenticating``); the kubeconfig is where clients find both. An unauthenticated
request is answered 401 before its body is read, and its connection is closed. The TLS
handshake runs in the connection's thread, so a client that stalls it blocks no one else.

    with ApiServer(ObjectStore()).start() as server:
        server.write_kubeconfig(path)     # https URL, its authority, its token; mode 0600
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
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slagate.errors import BadRequest, NotFound, SandboxError
from slagate.sandbox.apiserver.access import AccessPolicy
from slagate.sandbox.apiserver.api import Api
from slagate.sandbox.apiserver.authenticating import (
    UNAUTHORIZED_BODY,
    BearerAuthenticator,
    UserInfo,
    new_token,
)
from slagate.sandbox.apiserver.certificates import ServingCertificate, issue_certificate
from slagate.sandbox.apiserver.kubeconfig import CONTEXT, write_kubeconfig
from slagate.sandbox.apiserver.messages import Request, Response, WatchPlan
from slagate.sandbox.apiserver.statuses import failure_status
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watchstream import StreamEnd, StreamTiming, stream_watch
from slagate.sandbox.objects.bodies import metadata
from slagate.sandbox.objects.resources import SERVICE_ACCOUNTS

logger = logging.getLogger(__name__)
_MAX_BODY_BYTES = 16 * 1024 * 1024
_HANDSHAKE_TIMEOUT_S = 10.0


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
                f"{self.host!r}: it holds the cluster's bearer token and its certificate "
                "names only loopback addresses; use 127.0.0.1"
            )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        api: Api,
        timing: StreamTiming,
        authenticator: BearerAuthenticator,
        tls: ssl.SSLContext,
    ) -> None:
        self.api = api
        self.timing = timing
        self.authenticator = authenticator
        self.connections: set[socket.socket] = set()
        self.connections_changed = threading.Condition()
        super().__init__(address, _Handler)
        self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed TLS handshake or a dropped connection: not worth a traceback."""
        logger.debug("connection from %s failed", client_address, exc_info=True)

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
    connection: ssl.SSLSocket

    def setup(self) -> None:
        self.request.settimeout(_HANDSHAKE_TIMEOUT_S)
        self.request.do_handshake()
        self.request.settimeout(None)
        super().setup()

    def do_GET(self) -> None:
        user = self._authenticated()
        if user is None:
            return
        try:
            request = self._read_request(user)
        except BadRequest as error:
            self._respond(Response.from_error(error))
            return
        outcome = self.server.api.handle(request)
        if isinstance(outcome, Response):
            self._respond(outcome)
        else:
            self._stream(outcome)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _authenticated(self) -> UserInfo | None:
        """Who sends the request; None after answering 401 and closing the connection
        (its body unread) when it carries no valid token. The header is never logged."""
        path = urlsplit(self.path).path
        user = self.server.authenticator.authenticate(path, self.headers.get("Authorization"))
        if user is not None:
            return user
        logger.debug("%s %s %s: 401, no valid token", self.address_string(), self.command, path)
        payload = json.dumps(UNAUTHORIZED_BODY, separators=(",", ":")).encode()
        self.send_response(401)
        self._json_headers()
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        return None

    def _read_request(self, user: UserInfo) -> Request:
        url = urlsplit(self.path)
        headers = {key.lower(): value for key, value in self.headers.items()}
        body = self._read_body(headers)
        return Request(self.command, url.path, dict(parse_qsl(url.query)), headers, body, user)

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
            end = stream_watch(plan, self, self.server.timing, self.server.api.slowdown.hold)
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
        """Whether the client hung up. A watching client sends nothing (HTTP/1.1 waits for
        the end of the response), so whatever is readable is its TLS close or its EOF:
        reading it, without blocking, tells (TLS sockets cannot peek)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable and not self.connection.pending():
                return False
            self.connection.setblocking(False)
            try:
                return self.connection.recv(1) == b""
            finally:
                self.connection.setblocking(True)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
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
    ``token``: the bearer token every request must carry; None draws a random one.
    ``certificate``: what it serves TLS with; None issues a new one. A restart that keeps
    both keeps every kubeconfig written for the server valid.
    """

    def __init__(
        self,
        store: ObjectStore | None = None,
        *,
        settings: ApiServerSettings | None = None,
        access: AccessPolicy | None = None,
        token: str | None = None,
        certificate: ServingCertificate | None = None,
    ) -> None:
        self.settings = settings or ApiServerSettings()
        self.store = store or ObjectStore()
        self.access = access or AccessPolicy()
        self._token = token or new_token()
        self._authenticator = BearerAuthenticator(self._token, self._service_account_uid)
        self._certificate: ServingCertificate = certificate or issue_certificate()
        self.api = Api(self.store, self.access, self._token)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ApiServer:
        """Bind and serve in a background thread; ``SandboxError`` if the port is taken."""
        if self._httpd is not None:
            return self
        timing = StreamTiming(self.settings.bookmark_interval_s, self.settings.liveness_check_s)
        address = (self.settings.host, self.settings.port)
        try:
            self._httpd = _HttpServer(
                address, self.api, timing, self._authenticator, self._certificate.server_context()
            )
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
        return f"https://{self.settings.host}:{self.port}"

    @property
    def token(self) -> str:
        """The bearer token clients must send: for the kubeconfig only, never a log."""
        return self._token

    def write_kubeconfig(
        self, path: Path, *, context: str = CONTEXT, namespace: str = "default"
    ) -> Path:
        """Write a kubeconfig for this server to ``path`` (mode 0600): its URL, the
        authority to trust and the token. Call after ``start()``."""
        return write_kubeconfig(
            path,
            self.url,
            token=self._token,
            authority=self._certificate.authority_pem,
            context=context,
            namespace=namespace,
        )

    def _service_account_uid(self, namespace: str, name: str) -> str | None:
        try:
            account = self.store.get(SERVICE_ACCOUNTS, namespace, name)
        except NotFound:
            return None
        return str(metadata(account).get("uid", "")) or None

    def write_service_account_kubeconfig(self, path: Path, namespace: str, name: str) -> Path:
        """A kubeconfig that authenticates as ServiceAccount ``namespace/name`` (which must
        exist: ``NotFound`` otherwise), its context's namespace ``namespace``."""
        token = self.api.service_account_token(namespace, name)
        return write_kubeconfig(
            path,
            self.url,
            token=token,
            authority=self._certificate.authority_pem,
            context=CONTEXT,
            namespace=namespace,
        )

    @property
    def certificate(self) -> ServingCertificate:
        """Its TLS certificate; ``authority_pem`` is what clients trust."""
        return self._certificate

    def stop(self) -> None:
        """End every watch, close every connection, release the port. Idempotent."""
        httpd, thread, self._httpd, self._thread = self._httpd, self._thread, None, None
        if httpd is None or thread is None:
            return
        self.api.slowdown.end()
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

    def slow(self, seconds: float) -> None:
        """Fault injection: hold every answer back for ``seconds`` (``Slowdown``)."""
        self.api.slowdown.start(seconds)

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
    token: str | None = None,
) -> ApiServer:
    """Create and start a server in a background thread; call ``stop()`` when done."""
    return ApiServer(store, settings=settings, access=access, token=token).start()
