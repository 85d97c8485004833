from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from slagate.shop.health import Lifecycle, Phase, health_router
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(
    ("now_s", "phase"),
    [
        pytest.param(100.0, Phase.STARTING, id="at-start"),
        pytest.param(101.9, Phase.STARTING, id="just-before"),
        pytest.param(102.0, Phase.READY, id="at-delay"),
    ],
)
def test_ready_once_the_startup_delay_passed(now_s: float, phase: Phase) -> None:
    lifecycle = Lifecycle(started_s=100.0, startup_delay_s=2.0, clock=FakeClock(now_s))

    assert lifecycle.phase is phase


def test_draining_beats_ready() -> None:
    lifecycle = Lifecycle(started_s=100.0, startup_delay_s=0.0, clock=FakeClock(500.0))

    lifecycle.begin_shutdown()

    assert lifecycle.phase is Phase.DRAINING


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        return await client.get(path)


async def test_ready_probe_answers_503_then_200() -> None:
    clock = FakeClock(100.0)
    app = FastAPI()
    app.include_router(health_router(Lifecycle(100.0, 1.0, clock)))

    starting = await get(app, "/healthz/ready")
    clock.now_s = 101.0
    ready = await get(app, "/healthz/ready")

    assert (starting.status_code, starting.json()) == (503, {"status": "starting"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_live_probe_answers_200_even_while_starting() -> None:
    app = FastAPI()
    app.include_router(health_router(Lifecycle(100.0, 60.0, FakeClock(100.0))))

    response = await get(app, "/healthz/live")

    assert (response.status_code, response.json()) == (200, {"status": "alive"})
