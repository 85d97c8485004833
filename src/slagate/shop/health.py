"""Liveness and readiness, the two probes a kubelet (real or sandboxed) asks.

Readiness is what rolling deploys hinge on: a replica must not receive traffic before it
is warmed up (``startup_delay_s``) nor after it began shutting down. Liveness only says the
event loop still answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from fastapi import APIRouter
from fastapi.responses import JSONResponse


class Phase(StrEnum):
    STARTING = "starting"
    READY = "ready"
    DRAINING = "draining"


class Lifecycle:
    """Where one service process is in its life, read against an injected clock."""

    def __init__(
        self,
        started_s: float,
        startup_delay_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``started_s`` is a ``clock()`` reading (seconds) taken when the process began."""
        self._ready_at_s = started_s + startup_delay_s
        self._clock = clock
        self._draining = False

    @classmethod
    def starting_now(
        cls, startup_delay_s: float, clock: Callable[[], float] = time.monotonic
    ) -> Lifecycle:
        return cls(clock(), startup_delay_s, clock)

    @property
    def phase(self) -> Phase:
        if self._draining:
            return Phase.DRAINING
        if self._clock() < self._ready_at_s:
            return Phase.STARTING
        return Phase.READY

    def begin_shutdown(self) -> None:
        """From now on readiness fails, whatever the clock says."""
        self._draining = True


def health_router(lifecycle: Lifecycle) -> APIRouter:
    """``GET /healthz/live`` (always 200) and ``GET /healthz/ready`` (200 only when ready)."""
    router = APIRouter(prefix="/healthz")

    @router.get("/live")
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/ready")
    async def ready() -> JSONResponse:
        phase = lifecycle.phase
        status_code = 200 if phase is Phase.READY else 503
        return JSONResponse({"status": phase.value}, status_code=status_code)

    return router
