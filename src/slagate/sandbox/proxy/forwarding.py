"""One client connection of a Service listener: requests in, balanced, forwarded, relayed back.

Per request (the ``per-request`` data plane): every request picks its own upstream
(``Backends.pick``), so a keep-alive client spreads over all ready replicas, as with an
Istio sidecar.

Per connection (``per_connection``, the ``kube-proxy`` data plane): as kube-proxy's
DNAT rules do, a client connection is tied to one upstream connection to one endpoint,
picked when the client connects, for both their lives. A keep-alive client stays on its
pod, so new pods get only new connections; an endpoint that leaves the set keeps its
established connections (conntrack) until either side closes; the upstream closing its
end closes the client's, and a failed exchange closes it without an answer, as a reset
would. A client that connects while no endpoint is routed, or to an endpoint that
refuses, is reset at once: kube-proxy rejects such connections, it never answers 503.
Nothing is retried. The telemetry still counts every request that was read.

Answers the proxy makes itself carry ``x-slagate-proxy: 1`` and Envoy's wording, and
are counted with Envoy's response flags (``telemetry``):

- no ready endpoint: 503 ``no healthy upstream`` (``UH``)
- the upstream refused the connection: 503
  ``upstream connect error or disconnect/reset before headers`` (``UF``); it reset or
  closed it before a response head: the same answer (``UC``)
- no response head within ``response_timeout_s``: 504 ``upstream request timeout`` (``UT``)
- a response that is not HTTP/1.x: 502 (``UPE``)
- a request the proxy cannot parse: 400 / 431 and the connection closed (``DPE``)

Retries: a request is sent again only if it is idempotent, its body was not streamed, and
it failed on a *reused* pooled connection before any response byte came back (the server
closed an idle keep-alive as the request went out); the retry goes to the same endpoint on
a new connection. A refused connection is never retried elsewhere: a pod that stopped
listening while still routed to must show up as failed requests, as on a real cluster.

The hot path allocates no per-request objects beyond the parsed heads and the telemetry
key, takes no locks and logs nothing; errors are counted in ``ProxyStats``, every answered
request in the listener's ``ServiceMeter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass
from http import HTTPStatus
from time import monotonic

from slagate.errors import ProxyRefused, UpstreamBroken, UpstreamFailed
from slagate.sandbox.proxy.http1 import (
    HEAD_END,
    SMALL_BODY_BYTES,
    Discard,
    Framing,
    RequestHead,
    ResponseHead,
    parse_request,
    parse_response,
    relay_chunked,
    relay_length,
    relay_until_eof,
    simple_response,
)
from slagate.sandbox.proxy.retrying import RetryPolicy
from slagate.sandbox.proxy.sidecar import Sidecar
from slagate.sandbox.proxy.telemetry import NO_FLAGS, ServiceMeter
from slagate.sandbox.proxy.upstreams import Backends, Connection, Upstream
from slagate.sandbox.proxy.workloads import Workload

NO_HEALTHY_UPSTREAM = "no healthy upstream"
UPSTREAM_RESET = "upstream connect error or disconnect/reset before headers"
UPSTREAM_TIMEOUT = "upstream request timeout"
UPSTREAM_INVALID = "upstream sent an invalid response"
FAULT_ABORT = "fault filter abort"
RESPONSE_TIMEOUT_S = 30.0
_NO_HEALTHY_UPSTREAM = UpstreamFailed(503, "Service Unavailable", NO_HEALTHY_UPSTREAM, "UH")
_PROTOCOL_ERROR = "DPE"
_UPSTREAM_ENDED = "UC"
"""The upstream ended the connection in the middle of its response (the head was relayed)."""
_CLIENT_GONE = "DC"
"""The client went away while the response was relayed (Envoy: downstream connection
termination)."""
_UPSTREAM_SIDE = (asyncio.IncompleteReadError, asyncio.LimitOverrunError, UpstreamBroken)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_KEEP_ALIVE = b"\r\nconnection: keep-alive" + HEAD_END
_CLOSE = b"\r\nconnection: close" + HEAD_END
_BROKEN = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, UpstreamBroken)
_RETRIES_EXHAUSTED = "URX"


@dataclass(slots=True)
class ProxyStats:
    """Counters since start, shared by every listener of a proxy."""

    client_connections: int = 0
    requests: int = 0
    no_healthy_upstream: int = 0
    upstream_errors: int = 0
    retries: int = 0
    reset_connections: int = 0
    """Per connection: client connections reset at once (no endpoint, or it refused)."""


@dataclass(slots=True)
class Pinned:
    """Per connection: the endpoint and upstream connection one client connection uses."""

    upstream: Upstream
    connection: Connection


class Forwarder:
    """Serves the client connections of one listener over ``backends``."""

    def __init__(
        self,
        backends: Backends,
        stats: ProxyStats,
        clients: set[asyncio.StreamWriter],
        meter: ServiceMeter,
        response_timeout_s: float = RESPONSE_TIMEOUT_S,
        per_connection: bool = False,
        sidecar: Sidecar | None = None,
    ) -> None:
        self.backends = backends
        self.sidecar = sidecar
        self.stats = stats
        self.clients = clients
        self.meter = meter
        self.response_timeout_s = response_timeout_s
        self.per_connection = per_connection

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The ``asyncio.start_server`` callback: exchange until either side closes."""
        self.stats.client_connections += 1
        self.clients.add(writer)
        source = self.meter.source(writer.get_extra_info("peername"))
        pinned = None
        try:
            if self.per_connection:
                pinned = await self._pin()
                if pinned is None:
                    self.stats.reset_connections += 1
                    _reset(writer)
                    return
            while await self._exchange(reader, writer, source, pinned):
                pass
        except (*_BROKEN, ProxyRefused):
            pass
        finally:
            if pinned is not None:
                pinned.connection.close()
            self.clients.discard(writer)
            writer.close()

    async def _pin(self) -> Pinned | None:
        """Per connection: an upstream connection to a picked endpoint, None if there is
        no endpoint or it cannot be reached."""
        upstream = self.backends.pick()
        if upstream is None:
            return None
        try:
            return Pinned(upstream, await upstream.connect())
        except OSError:
            return None

    async def _next_head(self, reader: asyncio.StreamReader, pinned: Pinned | None) -> bytes | None:
        """The next request head; None when the pinned upstream connection ends first (the
        pod closed an idle keep-alive: its FIN reaches the client, as through DNAT)."""
        if pinned is None:
            return await reader.readuntil(HEAD_END)
        head = asyncio.ensure_future(reader.readuntil(HEAD_END))
        ended = asyncio.ensure_future(pinned.connection.reader.read(1))
        try:
            await asyncio.wait((head, ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _discard(ended)  # settled: the response may be read from it next
            if not head.done():
                await _discard(head)
        return None if head.cancelled() else head.result()

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        source: Workload,
        pinned: Pinned | None = None,
    ) -> bool:
        """Serve one request; True to keep the client connection for another."""
        try:
            raw = await self._next_head(reader, pinned)
            if raw is None:
                return False
        except asyncio.IncompleteReadError:
            return False
        except asyncio.LimitOverrunError:
            self.meter.record(source, None, 431, _PROTOCOL_ERROR, monotonic())
            writer.write(
                simple_response(431, "Request Header Fields Too Large", b"", keep_alive=False)
            )
            return False
        started = monotonic()
        if raw.startswith(b"\r\n"):  # stray blank lines between requests are allowed
            raw = raw.lstrip(b"\r\n")
            if not raw:
                return True
        try:
            request = parse_request(raw)
        except ProxyRefused as error:
            self.meter.record(source, None, error.status, _PROTOCOL_ERROR, started)
            body = error.detail.encode()
            writer.write(simple_response(error.status, error.reason, body, keep_alive=False))
            return False
        self.stats.requests += 1
        if request.expects_continue and request.framing is not Framing.NONE:
            writer.write(_CONTINUE)
        body = b""
        if request.framing is Framing.LENGTH and request.length <= SMALL_BODY_BYTES:
            body = await reader.readexactly(request.length)
        if self.sidecar is not None:
            return await self._serve_mesh(
                self.sidecar, request, body, (reader, writer), (source, started)
            )
        upstream = self.backends.pick() if pinned is None else pinned.upstream
        if upstream is None:
            self.stats.no_healthy_upstream += 1
            self.meter.record(source, None, 503, _NO_HEALTHY_UPSTREAM.flags, started)
            return await self._reply(reader, writer, request, _NO_HEALTHY_UPSTREAM, not body)
        upstream.active += 1
        try:
            return await self._forward(
                upstream, request, body, reader, writer, (source, started), pinned
            )
        finally:
            upstream.active -= 1

    async def _forward(
        self,
        upstream: Upstream,
        request: RequestHead,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        origin: tuple[Workload, float],
        pinned: Pinned | None = None,
    ) -> bool:
        """Forward to ``upstream`` (over ``pinned``'s connection, if given) and relay the
        answer; ``origin``: the client's workload and when the request's head was read,
        for the telemetry."""
        streamed = request.framing is not Framing.NONE and not body
        endpoint = upstream.endpoint
        try:
            if pinned is None:
                connection, response = await self._send(upstream, request, body, reader, streamed)
            else:
                connection, response = await self._send_pinned(pinned, request, body, reader)
        except UpstreamFailed as failure:
            self.stats.upstream_errors += 1
            self.meter.record(origin[0], endpoint, failure.status, failure.flags, origin[1])
            if pinned is not None:
                _reset(writer)  # the client sees its connection end, as the pod's did
                return False
            # a streamed body was (partly) consumed while sending: the client is out of sync
            return (
                await self._reply(reader, writer, request, failure, pending=False) and not streamed
            )
        try:
            keep_client = await self._relay_response(connection, request, response, writer)
        except _BROKEN as error:
            connection.close()
            flags = _UPSTREAM_ENDED if isinstance(error, _UPSTREAM_SIDE) else _CLIENT_GONE
            self.meter.record(origin[0], endpoint, response.status, flags, origin[1])
            return False
        self.meter.record(origin[0], endpoint, response.status, NO_FLAGS, origin[1])
        if pinned is not None:
            return keep_client and response.keep_alive
        upstream.release(connection, response.keep_alive)
        return keep_client

    async def _serve_mesh(
        self,
        sidecar: Sidecar,
        request: RequestHead,
        body: bytes,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        origin: tuple[Workload, float],
    ) -> bool:
        """One request through the sidecar: outlier sweeps due, the route's fault (delay,
        then abort), a pick, then ``_forward_mesh``."""
        reader, writer = client
        sidecar.tick(origin[1])
        route = sidecar.route
        if route.fault is not None:
            delay_s, abort = route.fault.draw(sidecar.rng)
            if delay_s:
                await asyncio.sleep(delay_s)
            if abort is not None:
                fault = UpstreamFailed(abort, _reason(abort), FAULT_ABORT, "FI")
                self.meter.record(origin[0], None, abort, fault.flags, origin[1])
                return await self._reply(reader, writer, request, fault, not body)
        upstream = self.backends.pick()
        if upstream is None:
            self.stats.no_healthy_upstream += 1
            self.meter.record(origin[0], None, 503, _NO_HEALTHY_UPSTREAM.flags, origin[1])
            return await self._reply(reader, writer, request, _NO_HEALTHY_UPSTREAM, not body)
        deadline = None if route.timeout_s is None else monotonic() + route.timeout_s
        return await self._forward_mesh(
            sidecar, upstream, request, body, client, origin, route.retry, deadline
        )

    async def _forward_mesh(
        self,
        sidecar: Sidecar,
        upstream: Upstream,
        request: RequestHead,
        body: bytes,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        origin: tuple[Workload, float],
        retry: RetryPolicy | None,
        deadline: float | None,
    ) -> bool:
        """As ``_forward``, under the route's retry policy and timeout (``deadline`` on the
        ``monotonic`` clock, for the response head) and the outlier detection: a retried
        attempt goes to another endpoint than the ones tried, when there is one. A
        streamed request body cannot be sent twice: such requests are not retried."""
        reader, writer = client
        streamed = request.framing is not Framing.NONE and not body
        tried: tuple[Upstream, ...] = ()
        while True:
            tried += (upstream,)
            retries = len(tried) - 1
            timeout_s, final = _attempt_timeout(retry, deadline)
            upstream.active += 1
            try:
                try:
                    connection, response = await self._send(
                        upstream, request, body, reader, streamed, timeout_s
                    )
                except UpstreamFailed as failure:
                    sidecar.observe(upstream, failure.status, monotonic())
                    again = retry is not None and retry.retries_failure(failure.flags, retries)
                    if streamed or not again or (final and failure.flags == "UT"):
                        return await self._fail(upstream, request, client, origin, failure, tried)
                else:
                    sidecar.observe(upstream, response.status, monotonic())
                    again = retry is not None and retry.retries_status(response.status, retries)
                    if streamed or not again:
                        return await self._deliver(
                            upstream, connection, request, response, writer, origin, retries
                        )
                    await self._discard_response(upstream, connection, response)
            finally:
                upstream.active -= 1
            self.stats.retries += 1
            upstream = self.backends.pick(tried) or upstream

    async def _fail(
        self,
        upstream: Upstream,
        request: RequestHead,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        origin: tuple[Workload, float],
        failure: UpstreamFailed,
        tried: tuple[Upstream, ...],
    ) -> bool:
        """Answer a failed last attempt; ``URX`` added when retries were made."""
        if len(tried) > 1 and _RETRIES_EXHAUSTED not in failure.flags:
            failure = UpstreamFailed(
                failure.status, failure.reason, failure.detail, f"{failure.flags},URX"
            )
        self.stats.upstream_errors += 1
        self.meter.record(origin[0], upstream.endpoint, failure.status, failure.flags, origin[1])
        streamed = request.framing is not Framing.NONE
        keep = await self._reply(*client, request, failure, pending=False)
        return keep and not streamed

    async def _deliver(
        self,
        upstream: Upstream,
        connection: Connection,
        request: RequestHead,
        response: ResponseHead,
        writer: asyncio.StreamWriter,
        origin: tuple[Workload, float],
        retries: int,
    ) -> bool:
        """Relay the final attempt's response; ``URX`` when it is a retriable status
        after every retry was used."""
        flags = NO_FLAGS
        if retries and response.status >= 500:
            flags = _RETRIES_EXHAUSTED
        try:
            keep_client = await self._relay_response(connection, request, response, writer)
        except _BROKEN as error:
            connection.close()
            flags = _UPSTREAM_ENDED if isinstance(error, _UPSTREAM_SIDE) else _CLIENT_GONE
            self.meter.record(origin[0], upstream.endpoint, response.status, flags, origin[1])
            return False
        self.meter.record(origin[0], upstream.endpoint, response.status, flags, origin[1])
        upstream.release(connection, response.keep_alive)
        return keep_client

    async def _discard_response(
        self, upstream: Upstream, connection: Connection, response: ResponseHead
    ) -> None:
        """Read a retried attempt's response body to its end, then pool the connection."""
        try:
            if response.framing is not Framing.NONE:
                await _relay_body(
                    response.framing, response.length, connection.reader, Discard(), False
                )
        except _BROKEN:
            connection.close()
            return
        upstream.release(connection, response.keep_alive and response.framing is not Framing.CLOSE)

    async def _send_pinned(
        self, pinned: Pinned, request: RequestHead, body: bytes, reader: asyncio.StreamReader
    ) -> tuple[Connection, ResponseHead]:
        """Per connection: send over the pinned connection, never retried elsewhere."""
        streamed = request.framing is not Framing.NONE and not body
        connection = pinned.connection
        try:
            return connection, await self._attempt(connection, request, body, reader, streamed)
        except _BROKEN as error:
            connection.close()
            raise _failure(error) from error

    async def _send(
        self,
        upstream: Upstream,
        request: RequestHead,
        body: bytes,
        reader: asyncio.StreamReader,
        streamed: bool,
        timeout_s: float | None = None,
    ) -> tuple[Connection, ResponseHead]:
        """Send the request and read the response head (within ``timeout_s``, else the
        forwarder's response timeout); ``UpstreamFailed`` if that fails."""
        try:
            connection = await upstream.connection()
        except OSError as error:
            raise _connect_failure() from error
        try:
            return connection, await self._attempt(
                connection, request, body, reader, streamed, timeout_s
            )
        except _BROKEN as error:
            connection.close()
            if not (connection.reused and request.idempotent and not streamed) or _got_bytes(error):
                raise _failure(error) from error
        self.stats.retries += 1
        connection = await self._fresh_connection(upstream)
        try:
            return connection, await self._attempt(
                connection, request, body, reader, streamed, timeout_s
            )
        except _BROKEN as error:
            connection.close()
            raise _failure(error, retried=True) from error

    async def _fresh_connection(self, upstream: Upstream) -> Connection:
        for pooled in upstream.idle:  # pooled ones are as stale as the one that just failed
            pooled.close()
        upstream.idle.clear()
        try:
            return await upstream.connection()
        except OSError as error:
            raise _connect_failure(retried=True) from error

    async def _attempt(
        self,
        connection: Connection,
        request: RequestHead,
        body: bytes,
        reader: asyncio.StreamReader,
        streamed: bool,
        timeout_s: float | None = None,
    ) -> ResponseHead:
        upstream_writer = connection.writer
        upstream_writer.write(request.head + body if body else request.head)
        if streamed:
            await _relay_request_body(request, reader, upstream_writer)
        try:
            async with asyncio.timeout(timeout_s or self.response_timeout_s):
                return await self._read_final_head(connection, request)
        except TimeoutError as error:
            connection.close()
            raise UpstreamFailed(504, "Gateway Timeout", UPSTREAM_TIMEOUT, "UT") from error

    async def _read_final_head(self, connection: Connection, request: RequestHead) -> ResponseHead:
        """The final response head; interim 1xx heads (103 Early Hints) are skipped."""
        while True:
            raw = await connection.reader.readuntil(HEAD_END)
            response = parse_response(raw, request.method == b"HEAD")
            if response.status >= 200:
                return response
            if response.status == 101:
                raise UpstreamBroken("101 Switching Protocols without an Upgrade request")

    async def _relay_response(
        self,
        connection: Connection,
        request: RequestHead,
        response: ResponseHead,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Write the response to the client; True if the client connection stays open."""
        framing = response.framing
        keep_client = request.keep_alive and framing is not Framing.CLOSE
        dechunk = request.http10 and framing is Framing.CHUNKED
        head = _without_transfer_encoding(response.head) if dechunk else response.head
        head += _KEEP_ALIVE if keep_client and not dechunk else _CLOSE
        upstream_reader = connection.reader
        if framing is Framing.NONE:
            writer.write(head)
        elif framing is Framing.LENGTH and response.length <= SMALL_BODY_BYTES:
            writer.write(head + await upstream_reader.readexactly(response.length))
        else:
            writer.write(head)
            await _relay_body(framing, response.length, upstream_reader, writer, dechunk)
        await writer.drain()
        return keep_client and not dechunk

    async def _reply(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: RequestHead,
        failure: UpstreamFailed,
        pending: bool,
    ) -> bool:
        """Answer locally; first read and drop a request body still on the wire."""
        keep = request.keep_alive
        if pending and request.framing is not Framing.NONE:
            await _relay_request_body(request, reader, Discard())
        writer.write(
            simple_response(
                failure.status, failure.reason, failure.detail.encode(), keep_alive=keep
            )
        )
        await writer.drain()
        return keep


async def _relay_request_body(
    request: RequestHead, reader: asyncio.StreamReader, target: asyncio.StreamWriter | Discard
) -> None:
    if request.framing is Framing.CHUNKED:
        await relay_chunked(reader, target)
    else:
        await relay_length(reader, target, request.length)


async def _relay_body(
    framing: Framing,
    length: int,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter | Discard,
    dechunk: bool,
) -> None:
    if framing is Framing.CHUNKED:
        await relay_chunked(reader, writer, dechunk=dechunk)
    elif framing is Framing.LENGTH:
        await relay_length(reader, writer, length)
    else:
        await relay_until_eof(reader, writer)


async def _discard(task: asyncio.Future[bytes]) -> None:
    """Cancel ``task`` and wait until it has let go of its stream (``asyncio.wait`` does
    not raise, even if the caller is cancelled meanwhile); take its outcome if it has one,
    so that none is logged as lost."""
    if not task.done():
        task.cancel()
        await asyncio.wait((task,))
    if not task.cancelled():
        task.exception()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close the client connection with a TCP reset, as a rejected or broken DNAT flow."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _attempt_timeout(
    retry: RetryPolicy | None, deadline: float | None
) -> tuple[float | None, bool]:
    """How long the next attempt may wait for its response head, and whether that limit
    is the route's deadline (a timeout then ends the request: no retry)."""
    per_try = retry.per_try_timeout_s if retry is not None else None
    if deadline is None:
        return per_try, False
    remaining = max(deadline - monotonic(), 0.001)
    if per_try is not None and per_try < remaining:
        return per_try, False
    return remaining, True


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _without_transfer_encoding(head: bytes) -> bytes:
    lines = head.split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.lower().startswith(b"transfer-encoding"))


def _got_bytes(error: BaseException) -> bool:
    """Whether part of a response had arrived when the connection broke."""
    return isinstance(error, asyncio.IncompleteReadError) and bool(error.partial)


def _failure(error: BaseException, retried: bool = False) -> UpstreamFailed:
    """The answer to an exchange that broke before a response head: Envoy's ``UPE`` for
    a protocol error, ``UC`` for a connection the upstream ended; ``URX`` added when it
    was the retry that broke."""
    retry = f",{_RETRIES_EXHAUSTED}" if retried else ""
    if isinstance(error, UpstreamBroken):
        return UpstreamFailed(502, "Bad Gateway", UPSTREAM_INVALID, f"UPE{retry}")
    return UpstreamFailed(503, "Service Unavailable", UPSTREAM_RESET, f"UC{retry}")


def _connect_failure(retried: bool = False) -> UpstreamFailed:
    flags = f"UF,{_RETRIES_EXHAUSTED}" if retried else "UF"
    return UpstreamFailed(503, "Service Unavailable", UPSTREAM_RESET, flags)
