"""HTTP/1.1 message heads and bodies, as a reverse proxy needs them (RFC 9112).

Parsing is pure (``bytes -> RequestHead | ResponseHead``) so it is tested without a
socket; relaying bodies works on asyncio streams. Only what a proxy must understand is
parsed: the request line or status line, ``Content-Length``, ``Transfer-Encoding``,
``Connection`` and ``Expect``. Every other header passes through byte for byte, and
bodies are relayed as they arrive (chunk framing too), never buffered whole beyond
``SMALL_BODY_BYTES``.

Hop-by-hop headers (``Connection``, ``Keep-Alive``, ``Proxy-Connection``, ``Upgrade``,
``TE``, ``Trailer``) are dropped in both directions: the proxy keeps its own keep-alive
with the client and with each upstream.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import Protocol

from slagate.errors import ProxyRefused, UpstreamBroken

HEAD_END = b"\r\n\r\n"
SMALL_BODY_BYTES = 64 * 1024
"""Bodies up to this size are read whole and sent with their head in one write."""
_RELAY_CHUNK_BYTES = 64 * 1024
_HOP_BY_HOP = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"upgrade", b"te", b"trailer")
)
_IDEMPOTENT = frozenset((b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"))
_NO_BODY_STATUSES = frozenset((204, 304))


class Framing(enum.Enum):
    """How a message body ends: no body, ``Content-Length``, chunked, or at EOF."""

    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"
    CLOSE = "close"


@dataclass(slots=True)
class RequestHead:
    """A parsed request: ``head`` is what goes upstream (request line, filtered headers,
    blank line). ``keep_alive``: the client wants the connection kept after the response.
    ``expects_continue``: the client waits for ``100 Continue`` before sending the body."""

    method: bytes
    head: bytes
    framing: Framing
    length: int
    keep_alive: bool
    http10: bool
    expects_continue: bool

    @property
    def idempotent(self) -> bool:
        return self.method in _IDEMPOTENT


@dataclass(slots=True)
class ResponseHead:
    """A parsed response: ``head`` without hop-by-hop headers and without the blank line,
    so the proxy can add its own ``Connection`` header. ``keep_alive``: the upstream keeps
    the connection after this response."""

    status: int
    head: bytes
    framing: Framing
    length: int
    keep_alive: bool


def parse_request(raw: bytes) -> RequestHead:
    """Parse a request head ending in CRLF CRLF; ``ProxyRefused`` if it is malformed."""
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise ProxyRefused(400, "Bad Request", "malformed request line")
    method, target, version = parts
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise ProxyRefused(505, "HTTP Version Not Supported", "only HTTP/1.0 and 1.1 are served")
    if method == b"CONNECT":
        raise ProxyRefused(501, "Not Implemented", "CONNECT is not supported")
    http10 = version == b"HTTP/1.0"
    keep_alive, expects_continue = not http10, False
    length, chunked = -1, False
    out = [method + b" " + target + b" HTTP/1.1"]
    for line in lines[1:-2]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name[-1:] in b" \t":
            raise ProxyRefused(400, "Bad Request", "malformed header line")
        key = name.lower()
        if key in _HOP_BY_HOP:
            if key == b"connection":
                keep_alive = _connection_keeps(value, keep_alive)
            continue
        if key == b"content-length":
            length = _content_length(value, length)
        elif key == b"transfer-encoding":
            chunked = _is_chunked(value)
        elif key == b"expect":
            expects_continue = value.strip().lower() == b"100-continue"
            continue
        out.append(line)
    if chunked and length >= 0:
        raise ProxyRefused(400, "Bad Request", "both Content-Length and Transfer-Encoding")
    out += (b"", b"")
    framing = Framing.CHUNKED if chunked else Framing.LENGTH if length > 0 else Framing.NONE
    return RequestHead(
        method, b"\r\n".join(out), framing, length, keep_alive, http10, expects_continue
    )


def parse_response(raw: bytes, head_request: bool) -> ResponseHead:
    """Parse a response head; ``UpstreamBroken`` if it is not HTTP/1.x."""
    lines = raw.split(b"\r\n")
    status_line = lines[0]
    if not status_line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")) or len(status_line) < 12:
        raise UpstreamBroken(f"not an HTTP/1.x status line: {status_line[:60]!r}")
    try:
        status = int(status_line[9:12])
    except ValueError as error:
        raise UpstreamBroken(f"bad status code in {status_line[:60]!r}") from error
    keep_alive = status_line.startswith(b"HTTP/1.1")
    length, chunked = -1, False
    out = [b"HTTP/1.1" + status_line[8:]]
    for line in lines[1:-2]:
        name, _, value = line.partition(b":")
        key = name.lower()
        if key in _HOP_BY_HOP:
            if key == b"connection":
                keep_alive = _connection_keeps(value, keep_alive)
            continue
        if key == b"content-length":
            length = _upstream_length(value)
        elif key == b"transfer-encoding":
            chunked = value.strip().lower().endswith(b"chunked")
        out.append(line)
    framing = _response_framing(status, head_request, chunked, length)
    if framing is Framing.CLOSE:
        keep_alive = False
    return ResponseHead(status, b"\r\n".join(out), framing, length, keep_alive)


def _response_framing(status: int, head_request: bool, chunked: bool, length: int) -> Framing:
    if head_request or status < 200 or status in _NO_BODY_STATUSES:
        return Framing.NONE
    if chunked:
        return Framing.CHUNKED
    if length >= 0:
        return Framing.LENGTH if length else Framing.NONE
    return Framing.CLOSE


def _connection_keeps(value: bytes, default: bool) -> bool:
    tokens = value.lower()
    if b"close" in tokens:
        return False
    return True if b"keep-alive" in tokens else default


def _content_length(value: bytes, previous: int) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 15:
        raise ProxyRefused(400, "Bad Request", "invalid Content-Length")
    length = int(text)
    if previous >= 0 and previous != length:
        raise ProxyRefused(400, "Bad Request", "conflicting Content-Length headers")
    return length


def _is_chunked(value: bytes) -> bool:
    if value.strip().lower() != b"chunked":
        raise ProxyRefused(501, "Not Implemented", "only the chunked transfer coding is supported")
    return True


def _upstream_length(value: bytes) -> int:
    text = value.strip()
    if not text.isdigit():
        raise UpstreamBroken(f"invalid Content-Length {text[:20]!r}")
    return int(text)


def simple_response(
    status: int, reason: str, body: bytes, *, keep_alive: bool, proxy_made: bool = True
) -> bytes:
    """A complete plain-text response, e.g. the proxy's own 503."""
    lines = [
        f"HTTP/1.1 {status} {reason}".encode(),
        b"content-type: text/plain",
        b"content-length: " + str(len(body)).encode(),
        b"connection: " + (b"keep-alive" if keep_alive else b"close"),
    ]
    if proxy_made:
        lines.append(b"x-slagate-proxy: 1")
    return b"\r\n".join(lines) + HEAD_END + body


# -- bodies ---------------------------------------------------------------------------------


async def relay_length(reader: asyncio.StreamReader, writer: Writer, length: int) -> None:
    """Copy exactly ``length`` bytes; ``IncompleteReadError`` if the source ends early."""
    remaining = length
    while remaining > 0:
        data = await reader.read(min(remaining, _RELAY_CHUNK_BYTES))
        if not data:
            raise asyncio.IncompleteReadError(b"", remaining)
        remaining -= len(data)
        writer.write(data)
        await writer.drain()


async def relay_chunked(
    reader: asyncio.StreamReader, writer: Writer, *, dechunk: bool = False
) -> None:
    """Copy a chunked body through its last chunk and trailers; with ``dechunk`` write
    only the payload (for an HTTP/1.0 client, which then gets a close-delimited body)."""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as error:
            raise UpstreamBroken(f"bad chunk size line {size_line[:40]!r}") from error
        if size == 0:
            trailers = await _read_trailers(reader)
            if not dechunk:
                writer.write(size_line + trailers)
            return
        data = await reader.readexactly(size + 2)
        writer.write(data[:-2] if dechunk else size_line + data)
        await writer.drain()


async def _read_trailers(reader: asyncio.StreamReader) -> bytes:
    trailers = b""
    while True:
        line = await reader.readuntil(b"\r\n")
        trailers += line
        if line == b"\r\n":
            return trailers


async def relay_until_eof(reader: asyncio.StreamReader, writer: Writer) -> None:
    while data := await reader.read(_RELAY_CHUNK_BYTES):
        writer.write(data)
        await writer.drain()


class Writer(Protocol):
    """Where a relayed body goes: an ``asyncio.StreamWriter`` or ``Discard``."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...


class Discard:
    """A sink for a request body nobody will receive (answered by the proxy itself)."""

    def write(self, data: bytes) -> None:
        del data

    async def drain(self) -> None:
        return None
