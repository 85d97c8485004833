"""What both services' apps share: probes, metrics, CPU burn, injected latency and errors,
error statuses.

An app is built from injected parts only (stores, settings, registry, lifecycle), so a test
can build several in one process and drive them in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, params
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry

from slagate.errors import (
    DatabaseUnavailable,
    ProductServiceError,
    ProductServiceUnavailable,
    ShopConflict,
    ShopError,
    ShopNotFound,
)
from slagate.shop.burning import burn_cpu
from slagate.shop.health import Lifecycle, Phase, health_router
from slagate.shop.injecting import INJECTED_STATUS, ErrorInjection
from slagate.shop.instrumenting import (
    RequestMetrics,
    initialize_series,
    metrics_router,
    request_histogram,
)
from slagate.shop.settings import AppSettings

ERROR_STATUSES: Mapping[type[ShopError], int] = {
    ShopNotFound: 404,
    ShopConflict: 409,
    ProductServiceError: 502,
    ProductServiceUnavailable: 503,
    DatabaseUnavailable: 503,
}
"""HTTP status per error branch; the most specific class wins (503 over 502)."""


def create_service_app(
    title: str,
    business: APIRouter,
    settings: AppSettings,
    registry: CollectorRegistry,
    lifecycle: Lifecycle,
) -> FastAPI:
    """An app serving ``business`` routes (with CPU burn), probes and ``/metrics``."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None)
    app.include_router(health_router(lifecycle))
    app.include_router(metrics_router(registry))
    dependencies = (
        _warmup_dependencies(settings, lifecycle)
        + _injected_error_dependencies(settings.error_ratio)
        + _burn_dependencies(settings.cpu_ms)
        + _latency_dependencies(settings.latency_ms)
    )
    app.include_router(business, dependencies=dependencies)
    for error, status_code in ERROR_STATUSES.items():
        app.add_exception_handler(error, _error_responder(status_code))
    histogram = request_histogram(registry)
    injected = (str(INJECTED_STATUS),) if settings.error_ratio > 0 else ()
    initialize_series(histogram, business, injected)
    app.add_middleware(RequestMetrics, histogram=histogram)
    return app


def _warmup_dependencies(settings: AppSettings, lifecycle: Lifecycle) -> list[params.Depends]:
    """With ``fail_while_starting``, a 503 for business requests while still starting."""
    if not settings.fail_while_starting:
        return []

    async def refuse_while_starting() -> None:
        if lifecycle.phase is Phase.STARTING:
            raise HTTPException(status_code=503, detail="warming up: not ready to serve yet")

    return [Depends(refuse_while_starting)]


def _injected_error_dependencies(error_ratio: float) -> list[params.Depends]:
    """With an error ratio, a 500 for that share of business requests, before any work
    (the CPU burn and the handler come after it); none for 0."""
    if error_ratio <= 0:
        return []
    injection = ErrorInjection(error_ratio)

    async def inject() -> None:
        if injection.next_fails():
            raise HTTPException(status_code=INJECTED_STATUS, detail=injection.message)

    return [Depends(inject)]


def _burn_dependencies(cpu_ms: float) -> list[params.Depends]:
    """A dependency burning ``cpu_ms`` on the event loop thread, or none for 0.

    It is async on purpose: FastAPI runs sync dependencies in a thread pool, and the
    burn must hold the loop the way real per-request work does.
    """
    if cpu_ms <= 0:
        return []

    async def burn() -> None:
        burn_cpu(cpu_ms)

    return [Depends(burn)]


def _latency_dependencies(latency_ms: float) -> list[params.Depends]:
    """A dependency that waits ``latency_ms`` while the loop serves other requests, or none
    for 0."""
    if latency_ms <= 0:
        return []

    async def wait() -> None:
        await asyncio.sleep(latency_ms / 1000.0)

    return [Depends(wait)]


def _error_responder(
    status_code: int,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def respond(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=status_code)

    return respond
