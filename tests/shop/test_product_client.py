"""The HTTP product client against real loopback servers (aiohttp's test server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from slagate.errors import (
    ProductServiceError,
    ProductServiceUnavailable,
    ShopConflict,
    ShopError,
    UnknownProduct,
)
from slagate.shop.launching import free_port
from slagate.shop.product_client import HttpProductClient, connecting
from slagate.shop.settings import UpstreamSettings

pytestmark = pytest.mark.anyio

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Upstream:
    """A loopback product service answering with ``handler``; records request bodies."""

    def __init__(self, handler: Handler) -> None:
        self.bodies: list[object] = []
        self.paths: list[str] = []
        self._handler = handler

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        self.bodies.append(await request.json())
        return await self._handler(request)


@asynccontextmanager
async def client_for(upstream: Upstream) -> AsyncIterator[HttpProductClient]:
    app = web.Application()
    app.router.add_post("/products/{id}/{action}", upstream.handle)
    async with TestServer(app) as server:
        url = str(server.make_url("/"))
        async with connecting(UpstreamSettings(url, timeout_s=2)) as client:
            yield client


def answering(status: int, body: str = '{"detail": "nope"}') -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=body, content_type="application/json")

    return handler


async def test_reserve_posts_quantity_and_reservation_id() -> None:
    upstream = Upstream(answering(200, "{}"))
    async with client_for(upstream) as client:
        await client.reserve(7, 2, "order-1")

    assert upstream.paths == ["/products/7/reserve"]
    assert upstream.bodies == [{"quantity": 2, "reservation_id": "order-1"}]


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        pytest.param(404, UnknownProduct, "unknown product 7", id="404"),
        pytest.param(409, ShopConflict, "nope", id="409"),
        pytest.param(500, ProductServiceError, "answered 500 to release", id="500"),
        pytest.param(503, ProductServiceUnavailable, "unavailable for release", id="503"),
    ],
)
async def test_statuses_become_shop_errors(
    status: int, error: type[ShopError], message: str
) -> None:
    upstream = Upstream(answering(status))
    async with client_for(upstream) as client:
        with pytest.raises(error, match=message):
            await client.release(7, 2, "order-1")


async def test_a_dropped_connection_is_retried_once() -> None:
    async def drop_first(request: web.Request) -> web.StreamResponse:
        if len(upstream.bodies) == 1:
            assert request.transport is not None
            request.transport.close()
        return web.Response(status=200, text="{}")

    upstream = Upstream(drop_first)
    async with client_for(upstream) as client:
        await client.reserve(7, 2, "order-1")

    assert len(upstream.bodies) == 2


async def test_unreachable_service_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with connecting(UpstreamSettings(url, timeout_s=2)) as client:
        with pytest.raises(ProductServiceUnavailable, match="unreachable for reserve"):
            await client.reserve(7, 2, "order-1")


async def test_an_unusable_product_url_is_unavailable_not_a_crash() -> None:
    # e.g. an unexpanded $(PRODUCT_SERVICE_HOST) when the Service did not exist yet
    async with connecting(UpstreamSettings("http://$(PRODUCT_HOST):x", timeout_s=1)) as client:
        with pytest.raises(ProductServiceUnavailable):
            await client.reserve(7, 1, "order-1")
