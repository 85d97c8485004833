from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from slagate.errors import ProductServiceError, ProductServiceUnavailable, ShopError
from slagate.shop.database import DatabaseUrl
from slagate.shop.health import Lifecycle
from slagate.shop.order_app import create_order_app
from slagate.shop.orders import OrderStore
from slagate.shop.pooling import StorePool
from slagate.shop.product_client import ProductClient, StoreProductClient
from slagate.shop.products import ProductStore
from slagate.shop.settings import AppSettings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def product_stores(database: DatabaseUrl) -> Iterator[StorePool[ProductStore]]:
    """On both databases (``database``): one body, SQLite and PostgreSQL."""
    seed = ProductStore.open(database)
    seed.add("mug", 9.5, 5)
    seed.close()
    pool = StorePool.open(lambda: ProductStore.open(database), size=2)
    yield pool
    pool.close()


@pytest.fixture
def order_stores(database: DatabaseUrl) -> Iterator[StorePool[OrderStore]]:
    pool = StorePool.open(lambda: OrderStore.open(database), size=2)
    yield pool
    pool.close()


def order_app(stores: StorePool[OrderStore], products: ProductClient) -> FastAPI:
    ids = iter(["order-1", "order-2", "order-3"])
    lifecycle = Lifecycle(0.0, 0.0, lambda: 1.0)
    return create_order_app(
        stores, products, AppSettings(), CollectorRegistry(), lifecycle, new_id=lambda: next(ids)
    )


def serving(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://order")


@pytest.fixture
async def client(
    order_stores: StorePool[OrderStore], product_stores: StorePool[ProductStore]
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(order_app(order_stores, StoreProductClient(product_stores))) as client:
        yield client


async def stock(product_stores: StorePool[ProductStore]) -> int:
    return (await product_stores.read(lambda store: store.get(1))).stock


async def test_create_order_reserves_stock(
    client: httpx.AsyncClient, product_stores: StorePool[ProductStore]
) -> None:
    response = await client.post("/orders", json={"product_id": 1, "quantity": 2})

    assert response.status_code == 201
    assert response.json() == {
        "id": "order-1", "product_id": 1, "quantity": 2, "status": "created",
    }  # fmt: skip
    assert await stock(product_stores) == 3


async def test_created_order_can_be_read(client: httpx.AsyncClient) -> None:
    await client.post("/orders", json={"product_id": 1, "quantity": 2})

    response = await client.get("/orders/order-1")

    assert response.json()["status"] == "created"


async def test_cancelling_twice_releases_stock_once(
    client: httpx.AsyncClient, product_stores: StorePool[ProductStore]
) -> None:
    await client.post("/orders", json={"product_id": 1, "quantity": 2})
    await client.post("/orders", json={"product_id": 1, "quantity": 1})

    first = await client.post("/orders/order-1/cancel")
    second = await client.post("/orders/order-1/cancel")

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "cancelled"
    assert await stock(product_stores) == 4


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        pytest.param({"product_id": 1, "quantity": 6}, 409, "insufficient stock", id="oversell"),
        pytest.param({"product_id": 9, "quantity": 1}, 404, "unknown product 9", id="unknown"),
    ],
)
async def test_refused_orders_take_no_stock(
    client: httpx.AsyncClient,
    product_stores: StorePool[ProductStore],
    body: dict[str, int],
    status: int,
    detail: str,
) -> None:
    response = await client.post("/orders", json=body)

    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert await stock(product_stores) == 5


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"product_id": 1, "quantity": 0}, id="zero-quantity"),
        pytest.param({"product_id": 1, "quantity": 1.5}, id="fractional-quantity"),
        pytest.param({"product_id": 1}, id="missing-quantity"),
        pytest.param({"product_id": "1", "quantity": 1}, id="id-as-text"),
    ],
)
async def test_invalid_order_is_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    assert (await client.post("/orders", json=body)).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/orders/nope"), ("POST", "/orders/nope/cancel")]
)
async def test_unknown_order_is_404(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert (response.status_code, response.json()) == (404, {"detail": "unknown order 'nope'"})


class FailingProducts:
    """A product service that fails every call with ``error``."""

    def __init__(self, error: ShopError) -> None:
        self.error = error

    async def reserve(self, product_id: int, quantity: int, reservation_id: str) -> None:
        raise self.error

    async def release(self, product_id: int, quantity: int, reservation_id: str) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(ProductServiceUnavailable("unreachable"), 503, id="unreachable"),
        pytest.param(ProductServiceError("answered 500"), 502, id="bad-answer"),
    ],
)
async def test_product_service_failure_maps_to_gateway_status(
    order_stores: StorePool[OrderStore], error: ShopError, status: int
) -> None:
    async with serving(order_app(order_stores, FailingProducts(error))) as client:
        response = await client.post("/orders", json={"product_id": 1, "quantity": 1})
        stored = await client.get("/orders/order-1")

    assert (response.status_code, response.json()) == (status, {"detail": str(error)})
    assert stored.status_code == 404


async def test_cancel_keeps_the_order_when_products_are_unreachable(
    order_stores: StorePool[OrderStore], client: httpx.AsyncClient
) -> None:
    await client.post("/orders", json={"product_id": 1, "quantity": 2})
    offline = FailingProducts(ProductServiceUnavailable("unreachable"))

    async with serving(order_app(order_stores, offline)) as broken:
        response = await broken.post("/orders/order-1/cancel")

    assert response.status_code == 503
    assert (await client.get("/orders/order-1")).json()["status"] == "created"
