"""``GET /metrics`` of the proxy process, served from its own event loop.

An Istio sidecar publishes its metrics on a port of its own (15090), apart from the
traffic it proxies; so does the sandbox's proxy. It is served on the proxy's loop, the
thread that also writes the counts, so a scrape reads them without a lock and never
sees a half-updated histogram (prometheus_client's own HTTP server would read them from
another thread). One request per connection (``connection: close``); anything but
``GET /metrics`` is a 404.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from slagate.sandbox.proxy.http1 import HEAD_END

METRICS_PATH = b"/metrics"
_READ_TIMEOUT_S = 10.0


async def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` (0: a free port) and answer scrapes of ``registry``."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT_S):
                head = await reader.readuntil(HEAD_END)
            writer.write(_response(registry, head))
            await writer.drain()
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    return await asyncio.start_server(answer, host, port, reuse_address=True)


def _response(registry: CollectorRegistry, head: bytes) -> bytes:
    parts = head.split(b" ", 2)
    path = parts[1].split(b"?")[0] if len(parts) > 2 else b""
    if parts[0] != b"GET" or path != METRICS_PATH:
        return _message(404, "Not Found", b"not found: try GET /metrics\n", "text/plain")
    return _message(200, "OK", generate_latest(registry), CONTENT_TYPE_LATEST)


def _message(status: int, reason: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body
