"""What only the PostgreSQL side has: a schema created by replicas starting side by side, a
connection the server drops (503, then the next call connects again), a server that cannot
be used at start. Against a real server (``postgres_server``)."""

from __future__ import annotations

import threading

import httpx
import pytest
from prometheus_client import CollectorRegistry

from slagate.errors import ConfigError, DatabaseUnavailable
from slagate.shop.database import DatabaseUrl
from slagate.shop.health import Lifecycle
from slagate.shop.orders import OrderStore
from slagate.shop.pooling import StorePool
from slagate.shop.product_app import create_product_app
from slagate.shop.products import ProductStore
from slagate.shop.settings import AppSettings
from tests.fakes import free_port
from tests.shop.conftest import PASSWORD, PostgresServer

REPLICAS = 8


@pytest.fixture
def url(postgres_server: PostgresServer) -> DatabaseUrl:
    return postgres_server.new_schema()


def test_replicas_starting_side_by_side_create_the_schema_once(url: DatabaseUrl) -> None:
    barrier = threading.Barrier(REPLICAS)
    failures: list[BaseException] = []

    def start_replica() -> None:
        barrier.wait(10)
        try:
            ProductStore.open(url).close()
            OrderStore.open(url).close()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=start_replica) for _ in range(REPLICAS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    store = ProductStore.open(url)
    try:
        assert store.add("mug", 9.5, 1).id == 1
    finally:
        store.close()


def test_a_dropped_connection_fails_one_call_then_connects_again(
    url: DatabaseUrl, postgres_server: PostgresServer
) -> None:
    store = ProductStore.open(url)
    try:
        store.add("mug", 9.5, 3)
        assert postgres_server.terminate_backends() >= 1

        with pytest.raises(DatabaseUnavailable) as caught:
            store.reserve(1, 1, "order-a")
        after = store.reserve(1, 1, "order-a")
    finally:
        store.close()

    assert str(caught.value).startswith(f"database {url} unavailable: ")
    assert PASSWORD not in str(caught.value)
    assert after.applied is True  # the failed call had taken nothing
    assert after.stock == 2


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_product_service_answers_503_while_its_database_is_gone(
    url: DatabaseUrl, postgres_server: PostgresServer, anyio_backend: str
) -> None:
    stores = StorePool.open(lambda: ProductStore.open(url), size=1)
    app = create_product_app(
        stores, AppSettings(), CollectorRegistry(), Lifecycle(0.0, 0.0, lambda: 1.0)
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://product"
        ) as client:
            await client.post("/products", json={"name": "mug", "price": 9.5, "stock": 1})
            postgres_server.terminate_backends()
            gone = await client.get("/products/1")
            back = await client.get("/products/1")
    finally:
        stores.close()

    assert gone.status_code == 503
    assert "unavailable" in gone.json()["detail"]
    assert back.status_code == 200


def test_an_unreachable_server_is_a_config_error_without_the_password() -> None:
    url = DatabaseUrl.parse(f"postgresql://shop:{PASSWORD}@127.0.0.1:{free_port()}/shop")

    with pytest.raises(ConfigError) as caught:
        ProductStore.open(url)

    message = str(caught.value)
    assert message.startswith(f"cannot use database {url}: ")
    assert "check that the server runs" in message
    assert PASSWORD not in message


def test_a_wrong_password_is_a_config_error(postgres_server: PostgresServer) -> None:
    url = DatabaseUrl.parse(postgres_server.url().replace("p%40ss", "wrong"))

    with pytest.raises(ConfigError, match="password authentication failed"):
        OrderStore.open(url)
