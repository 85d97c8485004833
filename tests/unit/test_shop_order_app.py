from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from slagate.shop.health import Lifecycle
from slagate.shop.order_app import create_order_app
from slagate.shop.orders import OrderStore
from slagate.shop.pooling import StorePool
from slagate.shop.product_app import create_product_app
from slagate.shop.product_client import HttpProductClient
from slagate.shop.products import ProductStore
from slagate.shop.settings import AppSettings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def ready() -> Lifecycle:
    return Lifecycle(0.0, 0.0, lambda: 1.0)


@pytest.fixture
def product_stores(tmp_path: Path) -> Iterator[StorePool[ProductStore]]:
    seed = ProductStore.open(tmp_path / "products.db")
    seed.add("mug", 9.5, 5)
    seed.close()
    pool = StorePool.open(lambda: ProductStore.open(tmp_path / "products.db"), size=2)
    yield pool
    pool.close()


@pytest.fixture
def order_stores(tmp_path: Path) -> Iterator[StorePool[OrderStore]]:
    pool = StorePool.open(lambda: OrderStore.open(tmp_path / "orders.db"), size=2)
    yield pool
    pool.close()


def order_app(stores: StorePool[OrderStore], transport: httpx.AsyncBaseTransport) -> FastAPI:
    upstream = httpx.AsyncClient(transport=transport, base_url="http://product")
    products = HttpProductClient(upstream)
    ids = iter(["order-1", "order-2", "order-3"])
    return create_order_app(
        stores, products, AppSettings(), CollectorRegistry(), ready(), new_id=lambda: next(ids)
    )


@pytest.fixture
def product_app(product_stores: StorePool[ProductStore]) -> FastAPI:
    return create_product_app(product_stores, AppSettings(), CollectorRegistry(), ready())


@pytest.fixture
async def client(
    order_stores: StorePool[OrderStore], product_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    app = order_app(order_stores, httpx.ASGITransport(app=product_app))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://order"
    ) as client:
        yield client


async def stock(product_app: FastAPI) -> int:
    transport = httpx.ASGITransport(app=product_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://product") as client:
        return int((await client.get("/products/1/stock")).json()["stock"])


async def test_create_order_reserves_stock(client: httpx.AsyncClient, product_app: FastAPI) -> None:
    response = await client.post("/orders", json={"product_id": 1, "quantity": 2})

    assert response.status_code == 201
    assert response.json() == {
        "id": "order-1", "product_id": 1, "quantity": 2, "status": "created",
    }  # fmt: skip
    assert await stock(product_app) == 3


async def test_created_order_can_be_read(client: httpx.AsyncClient) -> None:
    await client.post("/orders", json={"product_id": 1, "quantity": 2})

    response = await client.get("/orders/order-1")

    assert response.json()["status"] == "created"


async def test_cancelling_twice_releases_stock_once(
    client: httpx.AsyncClient, product_app: FastAPI
) -> None:
    await client.post("/orders", json={"product_id": 1, "quantity": 2})
    await client.post("/orders", json={"product_id": 1, "quantity": 1})

    first = await client.post("/orders/order-1/cancel")
    second = await client.post("/orders/order-1/cancel")

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "cancelled"
    assert await stock(product_app) == 4


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        pytest.param({"product_id": 1, "quantity": 6}, 409, "insufficient stock", id="oversell"),
        pytest.param({"product_id": 9, "quantity": 1}, 404, "unknown product 9", id="unknown"),
    ],
)
async def test_refused_orders_take_no_stock(
    client: httpx.AsyncClient, product_app: FastAPI, body: dict[str, int], status: int, detail: str
) -> None:
    response = await client.post("/orders", json=body)

    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert await stock(product_app) == 5


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


@pytest.mark.parametrize("path", ["/orders/nope", "/orders/nope/cancel"])
async def test_unknown_order_is_404(client: httpx.AsyncClient, path: str) -> None:
    method = "POST" if path.endswith("cancel") else "GET"

    response = await client.request(method, path)

    assert (response.status_code, response.json()) == (404, {"detail": "unknown order 'nope'"})


def refusing(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def failing(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"detail": "database on fire"})


@pytest.mark.parametrize(
    ("handler", "status", "detail"),
    [
        pytest.param(refusing, 503, "product service unreachable", id="unreachable"),
        pytest.param(failing, 502, "answered 500 to reserve", id="server-error"),
    ],
)
async def test_product_service_failure_maps_to_gateway_status(
    order_stores: StorePool[OrderStore],
    handler: Callable[[httpx.Request], httpx.Response],
    status: int,
    detail: str,
) -> None:
    app = order_app(order_stores, httpx.MockTransport(handler))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://order") as client:
        response = await client.post("/orders", json={"product_id": 1, "quantity": 1})

    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert (await client_get_missing(app)).status_code == 404


async def client_get_missing(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://order") as client:
        return await client.get("/orders/order-1")


async def test_cancel_keeps_the_order_when_products_are_unreachable(
    order_stores: StorePool[OrderStore], client: httpx.AsyncClient
) -> None:
    await client.post("/orders", json={"product_id": 1, "quantity": 2})
    offline = order_app(order_stores, httpx.MockTransport(refusing))
    transport = httpx.ASGITransport(app=offline)
    async with httpx.AsyncClient(transport=transport, base_url="http://order") as broken:
        response = await broken.post("/orders/order-1/cancel")

    assert response.status_code == 503
    assert (await client.get("/orders/order-1")).json()["status"] == "created"
