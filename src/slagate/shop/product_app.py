"""The product service: catalogue, stock, and the reserve/release calls orders make.

Endpoints (JSON; errors are ``{"detail": "..."}``):

- ``POST /products`` ``{name, price, stock}`` -> 201 ``Product``
- ``GET /products?limit=20&offset=0`` -> ``{items: [Product], limit, offset}`` (limit 1..100)
- ``GET /products/{product_id}`` -> ``Product``; 404 if unknown
- ``GET /products/{product_id}/stock`` -> ``{product_id, stock}``
- ``POST /products/{product_id}/reserve`` ``{quantity, reservation_id?}`` -> ``StockChange``;
  409 if the stock is insufficient (nothing reserved) or the reservation id clashes
- ``POST /products/{product_id}/release`` ``{quantity, reservation_id?}`` -> ``StockChange``;
  with a reservation id, releasing again is a no-op (``applied: false``)

where ``Product`` is ``{id, name, price, stock}`` and ``StockChange`` is
``{product_id, quantity, stock, reservation_id, applied}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from slagate.shop.apps import create_service_app
from slagate.shop.health import Lifecycle
from slagate.shop.pooling import StorePool
from slagate.shop.products import Product, ProductPage, ProductStore, StockChange
from slagate.shop.settings import AppSettings

MAX_ID = 2**63 - 1
"""The largest 64-bit integer (SQLite's integers, PostgreSQL's BIGINT): bigger ids could not
exist and would fail to bind."""

ProductId = Annotated[int, Path(ge=1, le=MAX_ID)]


class NewProduct(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    price: float = Field(ge=0, le=1e12, allow_inf_nan=False)
    stock: int = Field(ge=0, le=1_000_000_000, strict=True)


class StockRequest(BaseModel):
    quantity: int = Field(ge=1, le=1_000_000, strict=True)
    reservation_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )


@dataclass(frozen=True)
class StockLevel:
    product_id: int
    stock: int


def create_product_app(
    stores: StorePool[ProductStore],
    settings: AppSettings,
    registry: CollectorRegistry,
    lifecycle: Lifecycle,
) -> FastAPI:
    """The product service app over ``stores``; it owns none of its arguments."""
    return create_service_app(
        "slagate shop: product service", _routes(stores), settings, registry, lifecycle
    )


def _routes(stores: StorePool[ProductStore]) -> APIRouter:
    router = APIRouter(prefix="/products")

    @router.post("", status_code=201)
    async def register(body: NewProduct) -> Product:
        return await stores.write(lambda store: store.add(body.name, body.price, body.stock))

    @router.get("")
    async def page(
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    ) -> ProductPage:
        return await stores.read(lambda store: store.page(limit, offset))

    @router.get("/{product_id}")
    async def get(product_id: ProductId) -> Product:
        return await stores.read(lambda store: store.get(product_id))

    @router.get("/{product_id}/stock")
    async def stock(product_id: ProductId) -> StockLevel:
        product = await stores.read(lambda store: store.get(product_id))
        return StockLevel(product.id, product.stock)

    @router.post("/{product_id}/reserve")
    async def reserve(product_id: ProductId, body: StockRequest) -> StockChange:
        return await stores.write(
            lambda store: store.reserve(product_id, body.quantity, body.reservation_id)
        )

    @router.post("/{product_id}/release")
    async def release(product_id: ProductId, body: StockRequest) -> StockChange:
        return await stores.write(
            lambda store: store.release(product_id, body.quantity, body.reservation_id)
        )

    return router
