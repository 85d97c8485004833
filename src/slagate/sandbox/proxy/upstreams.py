"""Upstream endpoints of one Service port: per-request balancing and keep-alive pools.

``Backends`` is the routing state of one listener: the ready endpoints it may pick from
and the balancing policy. Each ``Upstream`` keeps its own stack of idle keep-alive
connections (most recently used first, so a few warm connections carry the load) and
counts requests in flight for least-request balancing.

Endpoints that leave the set are *retired*: their idle connections are closed at once,
requests in flight finish, and their connections are closed instead of pooled.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import time
from collections.abc import Iterable
from typing import NamedTuple

MAX_IDLE_S = 2.0
"""An idle pooled connection older than this is closed rather than reused: upstream
servers drop idle keep-alives (uvicorn after 5 s), and reusing one that the server is
closing at that very moment fails the request."""
MAX_IDLE_PER_UPSTREAM = 64
CONNECT_TIMEOUT_S = 5.0


class Endpoint(NamedTuple):
    """One ready pod address and target port, as an EndpointSlice lists it."""

    address: str
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


class Balancing(enum.Enum):
    """``least-request``: fewest requests in flight, ties in round-robin order (Istio's
    default); ``round-robin``: strict rotation (kube-proxy in IPVS rr mode, per request);
    ``random``: uniformly at random (kube-proxy's iptables ``statistic --mode random`` and
    nftables ``numgen random`` rules, drawn once per connection)."""

    LEAST_REQUEST = "least-request"
    ROUND_ROBIN = "round-robin"
    RANDOM = "random"


class Connection:
    """One keep-alive connection to an upstream."""

    __slots__ = ("idle_since", "reader", "reused", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0
        self.reused = False

    def usable(self, now: float) -> bool:
        return (
            now - self.idle_since < MAX_IDLE_S
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Upstream:
    """One endpoint: its pooled connections and its requests in flight."""

    __slots__ = ("active", "endpoint", "idle", "retired")

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.active = 0
        self.idle: list[Connection] = []
        self.retired = False

    async def connection(self) -> Connection:
        """A pooled connection if a usable one is idle, else a new one (``OSError`` if the
        endpoint refuses or does not answer within ``CONNECT_TIMEOUT_S``)."""
        now = time.monotonic()
        idle = self.idle
        while idle:
            pooled = idle.pop()
            if pooled.usable(now):
                pooled.reused = True
                return pooled
            pooled.close()
        return await self.connect()

    async def connect(self) -> Connection:
        """A new connection, never a pooled one (``OSError`` as for ``connection``)."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(*self.endpoint)
        except TimeoutError as error:
            raise ConnectionRefusedError(f"connect to {self.endpoint} timed out") from error
        return Connection(reader, writer)

    def release(self, connection: Connection, reusable: bool) -> None:
        """Return ``connection`` after a response; pool it if it may carry another one."""
        if reusable and not self.retired and len(self.idle) < MAX_IDLE_PER_UPSTREAM:
            connection.idle_since = time.monotonic()
            self.idle.append(connection)
        else:
            connection.close()

    def retire(self) -> None:
        self.retired = True
        for connection in self.idle:
            connection.close()
        self.idle.clear()


class Backends:
    """The endpoints one listener balances over, replaced as a whole by ``update``.

    ``ejected`` endpoints (outlier detection, ``set_ejected``) stay in ``upstreams`` (their
    connections and requests in flight are kept) but are not picked."""

    __slots__ = ("_next", "_rng", "_routable", "balancing", "ejected", "upstreams")

    def __init__(
        self, balancing: Balancing = Balancing.LEAST_REQUEST, rng: random.Random | None = None
    ) -> None:
        self.balancing = balancing
        self.upstreams: list[Upstream] = []
        self.ejected: frozenset[Endpoint] = frozenset()
        self._routable: list[Upstream] = []
        self._next = 0
        self._rng = rng or random.Random()

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(upstream.endpoint for upstream in self.upstreams)

    def pick(self, tried: tuple[Upstream, ...] = ()) -> Upstream | None:
        """The upstream for the next request, or None when there is no ready endpoint;
        one not in ``tried`` (a retry's earlier attempts) while there is one."""
        upstreams = self._routable
        if tried:
            upstreams = [u for u in upstreams if u not in tried] or upstreams
        count = len(upstreams)
        if count < 2:
            return upstreams[0] if count else None
        if self.balancing is Balancing.RANDOM:
            return upstreams[self._rng.randrange(count)]
        start = self._next % count
        self._next = start + 1
        best = upstreams[start]
        if self.balancing is Balancing.LEAST_REQUEST and best.active:
            for offset in range(1, count):
                candidate = upstreams[(start + offset) % count]
                if candidate.active < best.active:
                    best = candidate
        return best

    def update(self, endpoints: Iterable[Endpoint]) -> None:
        """Route to exactly ``endpoints`` from now on; keep the pools of those that stay."""
        current = {upstream.endpoint: upstream for upstream in self.upstreams}
        wanted = sorted(set(endpoints))
        self.upstreams = [current.pop(e) if e in current else Upstream(e) for e in wanted]
        for gone in current.values():
            gone.retire()
        self._route()

    def set_ejected(self, ejected: frozenset[Endpoint]) -> None:
        """Keep ``ejected`` endpoints out of the picks until the next call."""
        self.ejected = ejected
        self._route()

    def _route(self) -> None:
        ejected = self.ejected
        self._routable = [u for u in self.upstreams if u.endpoint not in ejected]

    def close(self) -> None:
        for upstream in self.upstreams:
            upstream.retire()
        self.upstreams = []
        self._routable = []
