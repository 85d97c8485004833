from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from slagate.shop.database import DatabaseUrl
from slagate.shop.health import Lifecycle
from slagate.shop.pooling import StorePool
from slagate.shop.product_app import create_product_app
from slagate.shop.products import ProductStore
from slagate.shop.settings import AppSettings
from tests.fakes import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def stores(database: DatabaseUrl) -> Iterator[StorePool[ProductStore]]:
    """On both databases (``database``): one body, SQLite and PostgreSQL."""
    pool = StorePool.open(lambda: ProductStore.open(database), size=2)
    yield pool
    pool.close()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def client(
    stores: StorePool[ProductStore], registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_product_app(stores, AppSettings(), registry, Lifecycle(0.0, 0.0, lambda: 1.0))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://product") as client:
        yield client


async def register(client: httpx.AsyncClient, stock: int = 5) -> int:
    response = await client.post("/products", json={"name": "mug", "price": 9.5, "stock": stock})
    assert response.status_code == 201
    return int(response.json()["id"])


async def test_register_then_get(client: httpx.AsyncClient) -> None:
    product_id = await register(client)

    response = await client.get(f"/products/{product_id}")

    assert response.status_code == 200
    assert response.json() == {"id": 1, "name": "mug", "price": 9.5, "stock": 5}


async def test_list_pages_through_products(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await register(client)

    response = await client.get("/products", params={"limit": 2, "offset": 1})

    body = response.json()
    assert [item["id"] for item in body["items"]] == [2, 3]
    assert (body["limit"], body["offset"]) == (2, 1)


async def test_stock_reserve_and_release(client: httpx.AsyncClient) -> None:
    product_id = await register(client, stock=5)

    reserved = await client.post(
        f"/products/{product_id}/reserve", json={"quantity": 2, "reservation_id": "o1"}
    )
    released = await client.post(
        f"/products/{product_id}/release", json={"quantity": 2, "reservation_id": "o1"}
    )
    again = await client.post(
        f"/products/{product_id}/release", json={"quantity": 2, "reservation_id": "o1"}
    )
    stock = await client.get(f"/products/{product_id}/stock")

    assert reserved.json() == {
        "product_id": 1, "quantity": 2, "stock": 3, "reservation_id": "o1", "applied": True,
    }  # fmt: skip
    assert (released.json()["stock"], released.json()["applied"]) == (5, True)
    assert (again.json()["stock"], again.json()["applied"]) == (5, False)
    assert stock.json() == {"product_id": 1, "stock": 5}


async def test_oversell_is_409_and_takes_nothing(client: httpx.AsyncClient) -> None:
    product_id = await register(client, stock=1)

    response = await client.post(f"/products/{product_id}/reserve", json={"quantity": 2})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "insufficient stock for product 1: 2 requested, 1 available"
    }
    assert (await client.get(f"/products/{product_id}/stock")).json()["stock"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/products/9", id="get"),
        pytest.param("GET", "/products/9/stock", id="stock"),
    ],
)
async def test_unknown_product_is_404(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert (response.status_code, response.json()) == (404, {"detail": "unknown product 9"})


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "", "price": 1, "stock": 1}, id="empty-name"),
        pytest.param({"name": "x", "price": -1, "stock": 1}, id="negative-price"),
        pytest.param({"name": "x", "price": 1, "stock": -1}, id="negative-stock"),
        pytest.param({"name": "x", "price": 1, "stock": "3"}, id="stock-as-text"),
        pytest.param({"name": "x", "price": 1}, id="missing-stock"),
    ],
)
async def test_invalid_product_is_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await client.post("/products", json=body)

    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/products/0", id="zero-id"),
        pytest.param("/products/abc", id="text-id"),
        pytest.param("/products?limit=0", id="limit-zero"),
        pytest.param("/products?limit=101", id="limit-too-big"),
    ],
)
async def test_invalid_path_or_query_is_422(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 422


def served(registry: CollectorRegistry, method: str, path: str, status: str) -> float | None:
    """``http_request_duration_seconds_count`` of one label combination (None: no series)."""
    labels = {"method": method, "path": path, "status": status}
    return registry.get_sample_value("http_request_duration_seconds_count", labels)


async def test_metrics_label_requests_by_route_template(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    await register(client)
    await client.get("/products/1")
    await client.get("/products/1")
    await client.get("/no/such/route")
    await client.get("/healthz/ready")

    assert served(registry, "POST", "/products", "201") == 1
    assert served(registry, "GET", "/products/{product_id}", "200") == 2
    assert served(registry, "GET", "other", "404") == 1
    assert served(registry, "GET", "/healthz/ready", "200") is None


async def test_each_routes_success_series_exists_at_zero_before_any_request(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    assert served(registry, "POST", "/products", "201") == 0
    assert served(registry, "GET", "/products/{product_id}", "200") == 0
    assert served(registry, "POST", "/products/{product_id}/reserve", "200") == 0
    assert served(registry, "GET", "/products", "500") is None  # no errors injected: no 500 series
    assert served(registry, "GET", "/healthz/ready", "200") is None


async def test_metrics_endpoint_serves_the_histogram(client: httpx.AsyncClient) -> None:
    await register(client)

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert "# TYPE http_request_duration_seconds histogram" in response.text
    assert 'path="/products",status="201"' in response.text


# An app that fails while warming up: what a readiness probe protects callers from.


@pytest.mark.parametrize(
    ("fail_while_starting", "expected"),
    [pytest.param(True, 503, id="fails-while-warming"), pytest.param(False, 200, id="serves")],
)
async def test_business_requests_while_starting(
    stores: StorePool[ProductStore], fail_while_starting: bool, expected: int
) -> None:
    clock = FakeClock(100.0)
    settings = AppSettings(startup_delay_s=5.0, fail_while_starting=fail_while_starting)
    app = create_product_app(stores, settings, CollectorRegistry(), Lifecycle(100.0, 5.0, clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://product") as client:
        assert (await client.get("/products")).status_code == expected
        assert (await client.get("/healthz/ready")).status_code == 503
        clock.now_s = 105.0
        assert (await client.get("/products")).status_code == 200
