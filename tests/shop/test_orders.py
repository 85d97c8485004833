"""The order store on both databases (``database``: SQLite and PostgreSQL, one body)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from slagate.errors import UnknownOrder
from slagate.shop.database import DatabaseUrl
from slagate.shop.orders import Order, OrderStatus, OrderStore
from slagate.shop.products import ProductStore


@pytest.fixture
def store(database: DatabaseUrl) -> Iterator[OrderStore]:
    store = OrderStore.open(database)
    yield store
    store.close()


def test_added_order_can_be_read_back(store: OrderStore) -> None:
    order = Order("a1", product_id=3, quantity=2, status=OrderStatus.CREATED)

    store.add(order)

    assert store.get("a1") == order


def test_unknown_order_raises(store: OrderStore) -> None:
    with pytest.raises(UnknownOrder, match="unknown order 'nope'"):
        store.get("nope")


def test_cancelling_twice_leaves_it_cancelled(store: OrderStore) -> None:
    store.add(Order("a1", 3, 2, OrderStatus.CREATED))

    first = store.mark_cancelled("a1")
    second = store.mark_cancelled("a1")

    assert first == second == Order("a1", 3, 2, OrderStatus.CANCELLED)
    assert store.get("a1").status is OrderStatus.CANCELLED


def test_cancelling_unknown_order_raises(store: OrderStore) -> None:
    with pytest.raises(UnknownOrder):
        store.mark_cancelled("nope")


def test_products_and_orders_may_share_one_database(database: DatabaseUrl) -> None:
    products = ProductStore.open(database)
    orders = OrderStore.open(database)
    try:
        products.add("mug", 1.0, 1)
        orders.add(Order("a1", 1, 1, OrderStatus.CREATED))
        assert orders.get("a1").product_id == products.get(1).id
    finally:
        products.close()
        orders.close()
