"""The order service: orders that hold stock reserved at the product service.

Endpoints (JSON; errors are ``{"detail": "..."}``):

- ``POST /orders`` ``{product_id, quantity}`` -> 201 ``Order``; 404 unknown product,
  409 insufficient stock, 503 product service unreachable, 502 it answered wrongly
- ``GET /orders/{order_id}`` -> ``Order``; 404 if unknown
- ``POST /orders/{order_id}/cancel`` -> ``Order`` with status ``cancelled``; the stock is
  released once however often (or on however many replicas) the cancel runs

where ``Order`` is ``{id, product_id, quantity, status}``, ``id`` a uuid4 hex string and
``status`` ``created`` or ``cancelled``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from slagate.errors import ShopError
from slagate.shop.apps import create_service_app
from slagate.shop.health import Lifecycle
from slagate.shop.orders import Order, OrderStatus, OrderStore
from slagate.shop.pooling import StorePool
from slagate.shop.product_app import MAX_ID
from slagate.shop.product_client import ProductClient
from slagate.shop.settings import AppSettings

logger = logging.getLogger(__name__)

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


class NewOrder(BaseModel):
    product_id: int = Field(ge=1, le=MAX_ID, strict=True)
    quantity: int = Field(ge=1, le=1_000_000, strict=True)


def new_order_id() -> str:
    return uuid.uuid4().hex


def create_order_app(
    stores: StorePool[OrderStore],
    products: ProductClient,
    settings: AppSettings,
    registry: CollectorRegistry,
    lifecycle: Lifecycle,
    new_id: Callable[[], str] = new_order_id,
) -> FastAPI:
    """The order service app; it owns none of its arguments (the caller closes them)."""
    routes = _routes(stores, products, new_id)
    return create_service_app("slagate shop: order service", routes, settings, registry, lifecycle)


def _routes(
    stores: StorePool[OrderStore], products: ProductClient, new_id: Callable[[], str]
) -> APIRouter:
    router = APIRouter(prefix="/orders")

    @router.post("", status_code=201)
    async def create(body: NewOrder) -> Order:
        order = Order(new_id(), body.product_id, body.quantity, OrderStatus.CREATED)
        await products.reserve(order.product_id, order.quantity, order.id)
        try:
            await stores.write(lambda store: store.add(order))
        except Exception:
            await _release_quietly(products, order)
            raise
        return order

    @router.get("/{order_id}")
    async def get(order_id: OrderId) -> Order:
        return await stores.read(lambda store: store.get(order_id))

    @router.post("/{order_id}/cancel")
    async def cancel(order_id: OrderId) -> Order:
        order = await stores.read(lambda store: store.get(order_id))
        if order.status is OrderStatus.CANCELLED:
            return order
        await products.release(order.product_id, order.quantity, order.id)
        return await stores.write(lambda store: store.mark_cancelled(order_id))

    return router


async def _release_quietly(products: ProductClient, order: Order) -> None:
    """Give back the stock of an order that could not be stored, logging if that fails."""
    try:
        await products.release(order.product_id, order.quantity, order.id)
    except ShopError:
        logger.exception("could not release the stock of unstored order %s", order.id)
