"""Injected errors and latency: which requests fail or wait, and how the apps answer them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client import CollectorRegistry

from slagate.errors import ConfigError
from slagate.shop.database import DatabaseUrl
from slagate.shop.health import Lifecycle
from slagate.shop.injecting import ErrorInjection
from slagate.shop.pooling import StorePool
from slagate.shop.product_app import create_product_app
from slagate.shop.products import ProductStore
from slagate.shop.settings import AppSettings


def failing(ratio: float, requests: int) -> list[int]:
    """The 1-based numbers of the requests that fail."""
    injection = ErrorInjection(ratio)
    return [n for n in range(1, requests + 1) if injection.next_fails()]


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        pytest.param(0.0, [], id="none"),
        pytest.param(0.1, [10, 20], id="every-10th"),
        pytest.param(0.25, [4, 8, 12, 16, 20], id="every-4th"),
        pytest.param(0.3, [4, 7, 10, 14, 17, 20], id="spread-evenly"),
        pytest.param(1.0, list(range(1, 21)), id="all"),
    ],
)
def test_failures_are_spread_evenly_and_deterministically(
    ratio: float, expected: list[int]
) -> None:
    assert failing(ratio, 20) == expected


def test_the_ratio_is_exact_over_any_count() -> None:
    assert len(failing(0.29, 100)) == 29  # float 0.29 * 100 is 28.999999999999996
    assert len(failing(0.01, 12_345)) == 123


@pytest.mark.parametrize("ratio", [-0.1, 1.01])
def test_a_ratio_outside_0_to_1_is_refused(ratio: float) -> None:
    with pytest.raises(ConfigError, match=r"error_ratio must be within 0\.\.1"):
        AppSettings(error_ratio=ratio)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[StorePool[ProductStore]]:
    pool = StorePool.open(
        lambda: ProductStore.open(DatabaseUrl.sqlite(tmp_path / "products.db")), size=2
    )
    yield pool
    pool.close()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_business_requests_fail_with_500_and_probes_do_not(
    stores: StorePool[ProductStore], anyio_backend: str
) -> None:
    registry = CollectorRegistry()
    settings = AppSettings(error_ratio=0.25)
    app = create_product_app(stores, settings, registry, Lifecycle(0.0, 0.0, lambda: 1.0))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://product") as client:
        probes = [(await client.get("/healthz/ready")).status_code for _ in range(4)]
        answers = [await client.get("/products") for _ in range(8)]
        metrics = (await client.get("/metrics")).text

    assert probes == [200] * 4
    assert [a.status_code for a in answers] == [200, 200, 200, 500] * 2
    assert answers[3].json() == {"detail": "injected error (--error-ratio 0.25)"}
    assert (
        'http_request_duration_seconds_count{method="GET",path="/products",status="500"} 2.0'
        in metrics
    )
    # every business route's 500 series exists from the start, so rate() counts the first one
    assert 'count{method="POST",path="/products/{product_id}/reserve",status="500"} 0.0' in metrics


LATENCY_MS = 300.0


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_injected_latency_delays_business_requests_without_holding_the_loop(
    stores: StorePool[ProductStore], anyio_backend: str
) -> None:
    """Four requests at once each wait the latency; waiting side by side, they take about
    one latency in all, where requests holding the loop would take four."""
    settings = AppSettings(latency_ms=LATENCY_MS)
    app = create_product_app(
        stores, settings, CollectorRegistry(), Lifecycle(0.0, 0.0, lambda: 1.0)
    )
    transport = httpx.ASGITransport(app=app)
    took: list[float] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://product") as client:

        async def timed(path: str) -> None:
            started = time.monotonic()
            assert (await client.get(path)).status_code == 200
            took.append(time.monotonic() - started)

        probe_started = time.monotonic()
        await timed("/healthz/ready")
        probe_s = time.monotonic() - probe_started
        took.clear()
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(timed, "/products")
        together_s = time.monotonic() - started

    assert probe_s < LATENCY_MS / 1000  # probes do not wait
    assert min(took) >= LATENCY_MS / 1000
    assert together_s < 3 * LATENCY_MS / 1000  # side by side, not one after the other


def test_a_negative_latency_is_refused() -> None:
    with pytest.raises(ConfigError, match="latency_ms"):
        AppSettings(latency_ms=-1)
