"""Request metrics in the form Prometheus presets for plain HTTP services expect.

One histogram, ``http_request_duration_seconds{method, path, status}``. ``path`` is the
route template (``/orders/{order_id}``), never the raw path: raw ids would create a series
per order. Requests that match no route count as ``other``. Probe and scrape routes are not
measured: they are not traffic, and a readiness 503 while starting or draining would
otherwise read as a failed request in an availability SLI.

The histogram lives in a registry the caller passes in, so several apps can live in one
process (tests) without clashing in the global registry.

``initialize_series`` creates, at start, the series each route is known to answer with
(its success status, and 500 when errors are injected), at 0. Prometheus' ``rate()`` cannot
count what happened before a series' first sample: a series born at its first request
would lose that request (and a replica's first injected error), which skews a ratio of
sums over short windows and new replicas. Initializing known label values to 0 is
Prometheus' own advice for client libraries.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_PATH = "other"
UNMEASURED_PATHS = frozenset({"/metrics", "/healthz/live", "/healthz/ready"})
LATENCY_BUCKETS_S = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""Bucket bounds in seconds: from 1 ms (a cached read) to 10 s (a stuck dependency)."""


def request_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "http_request_duration_seconds",
        "HTTP request duration in seconds, by method, route template and status code.",
        labelnames=("method", "path", "status"),
        buckets=LATENCY_BUCKETS_S,
        registry=registry,
    )


def initialize_series(
    histogram: Histogram, router: APIRouter, statuses: tuple[str, ...] = ()
) -> None:
    """Create the series of each route of ``router`` at 0: its success status
    (``status_code``, 200 when unset) and every status in ``statuses``."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.path in UNMEASURED_PATHS:
            continue
        for method in sorted(route.methods or ()):
            for status in (str(route.status_code or 200), *statuses):
                histogram.labels(method, route.path, status)


class RequestMetrics:
    """ASGI middleware observing every HTTP request's duration into ``histogram``.

    Routing sets ``scope["route"]`` on the same scope dict this middleware passed down,
    so after the call the matched route (and its template) is known.
    """

    def __init__(
        self,
        app: ASGIApp,
        histogram: Histogram,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._app = app
        self._histogram = histogram
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = self._clock()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_recording_status)
        finally:
            self._observe(scope, status, self._clock() - started)

    def _observe(self, scope: Scope, status: int, duration_s: float) -> None:
        path = route_template(scope)
        if path in UNMEASURED_PATHS:
            return
        self._histogram.labels(scope["method"], path, str(status)).observe(duration_s)


def route_template(scope: Scope) -> str:
    """The template of the route that handled ``scope``, or ``other`` if none matched."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_PATH


def metrics_router(registry: CollectorRegistry) -> APIRouter:
    """``GET /metrics``: the registry in the Prometheus text format."""
    router = APIRouter()

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
