"""An app that fails while warming up: what a readiness probe protects callers from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from slagate.shop.health import Lifecycle
from slagate.shop.pooling import StorePool
from slagate.shop.product_app import create_product_app
from slagate.shop.products import ProductStore
from slagate.shop.settings import AppSettings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[StorePool[ProductStore]]:
    pool = StorePool.open(lambda: ProductStore.open(tmp_path / "products.db"), size=1)
    yield pool
    pool.close()


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@pytest.mark.parametrize(
    ("fail_while_starting", "expected"),
    [pytest.param(True, 503, id="fails-while-warming"), pytest.param(False, 200, id="serves")],
)
async def test_business_requests_while_starting(
    stores: StorePool[ProductStore], fail_while_starting: bool, expected: int
) -> None:
    clock = Clock(100.0)
    settings = AppSettings(startup_delay_s=5.0, fail_while_starting=fail_while_starting)
    app = create_product_app(stores, settings, CollectorRegistry(), Lifecycle(100.0, 5.0, clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://product") as client:
        assert (await client.get("/products")).status_code == expected
        assert (await client.get("/healthz/ready")).status_code == 503
        clock.now_s = 105.0
        assert (await client.get("/products")).status_code == 200
