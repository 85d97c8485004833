"""The product store on both databases (``database``: SQLite and PostgreSQL, one body)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from slagate.errors import InsufficientStock, ReservationConflict, UnknownProduct
from slagate.shop.database import DatabaseUrl
from slagate.shop.products import Product, ProductStore, StockChange


@pytest.fixture
def store(database: DatabaseUrl) -> Iterator[ProductStore]:
    store = ProductStore.open(database)
    yield store
    store.close()


def test_added_product_can_be_read_back(store: ProductStore) -> None:
    added = store.add("mug", 9.5, 3)

    assert added == Product(id=1, name="mug", price=9.5, stock=3)
    assert store.get(1) == added


def test_unknown_product_raises(store: ProductStore) -> None:
    with pytest.raises(UnknownProduct, match="unknown product 42"):
        store.get(42)


def test_page_follows_limit_and_offset_in_id_order(store: ProductStore) -> None:
    for name in ["a", "b", "c", "d"]:
        store.add(name, 1.0, 1)

    page = store.page(limit=2, offset=1)

    assert [p.name for p in page.items] == ["b", "c"]
    assert (page.limit, page.offset) == (2, 1)


def test_reserve_takes_stock(store: ProductStore) -> None:
    store.add("mug", 9.5, 5)

    change = store.reserve(1, 3)

    assert change == StockChange(1, 3, 2, None, applied=True)
    assert store.get(1).stock == 2


def test_reserve_may_take_the_last_item(store: ProductStore) -> None:
    store.add("mug", 9.5, 2)

    assert store.reserve(1, 2).stock == 0


def test_reserve_beyond_stock_takes_nothing(store: ProductStore) -> None:
    store.add("mug", 9.5, 2)

    with pytest.raises(InsufficientStock, match="3 requested, 2 available"):
        store.reserve(1, 3)
    assert store.get(1).stock == 2


def test_reserve_of_unknown_product_raises(store: ProductStore) -> None:
    with pytest.raises(UnknownProduct):
        store.reserve(7, 1)


def test_reserve_repeated_with_same_id_takes_stock_once(store: ProductStore) -> None:
    store.add("mug", 9.5, 5)
    store.reserve(1, 2, "order-a")

    again = store.reserve(1, 2, "order-a")

    assert again == StockChange(1, 2, 3, "order-a", applied=False)
    assert store.get(1).stock == 3


@pytest.mark.parametrize(
    ("product_id", "quantity"),
    [pytest.param(1, 1, id="other-quantity"), pytest.param(2, 2, id="other-product")],
)
def test_reservation_id_reused_differently_conflicts(
    store: ProductStore, product_id: int, quantity: int
) -> None:
    store.add("mug", 9.5, 5)
    store.add("cup", 4.0, 5)
    store.reserve(1, 2, "order-a")

    with pytest.raises(ReservationConflict, match="is for 2 of product 1"):
        store.reserve(product_id, quantity, "order-a")


def test_release_by_reservation_gives_stock_back_once(store: ProductStore) -> None:
    store.add("mug", 9.5, 5)
    store.reserve(1, 2, "order-a")

    first = store.release(1, 2, "order-a")
    second = store.release(1, 2, "order-a")

    assert first == StockChange(1, 2, 5, "order-a", applied=True)
    assert second == StockChange(1, 2, 5, "order-a", applied=False)
    assert store.get(1).stock == 5


def test_release_of_unknown_reservation_conflicts(store: ProductStore) -> None:
    store.add("mug", 9.5, 5)

    with pytest.raises(ReservationConflict, match="unknown reservation 'order-x'"):
        store.release(1, 2, "order-x")
    assert store.get(1).stock == 5


def test_reserve_after_release_of_same_id_conflicts(store: ProductStore) -> None:
    store.add("mug", 9.5, 5)
    store.reserve(1, 2, "order-a")
    store.release(1, 2, "order-a")

    with pytest.raises(ReservationConflict, match="already released"):
        store.reserve(1, 2, "order-a")
    assert store.get(1).stock == 5


def test_release_without_reservation_adds_stock(store: ProductStore) -> None:
    store.add("mug", 9.5, 1)

    assert store.release(1, 4).stock == 5


def test_release_to_unknown_product_raises(store: ProductStore) -> None:
    with pytest.raises(UnknownProduct):
        store.release(3, 1)


def test_data_survives_reopening(database: DatabaseUrl) -> None:
    first = ProductStore.open(database)
    first.add("mug", 9.5, 5)
    first.reserve(1, 2, "order-a")
    first.close()

    second = ProductStore.open(database)
    try:
        assert second.get(1).stock == 3
        assert second.reserve(1, 2, "order-a").applied is False
    finally:
        second.close()


def test_concurrent_connections_never_oversell(database: DatabaseUrl) -> None:
    """Eight connections (as eight replicas would hold) race for 100 items, one at a time."""
    setup = ProductStore.open(database)
    setup.add("mug", 9.5, 100)
    stores = [ProductStore.open(database) for _ in range(8)]
    taken = [0] * len(stores)

    def take_until_empty(index: int) -> None:
        try:
            while True:
                stores[index].reserve(1, 1)
                taken[index] += 1
        except InsufficientStock:
            return

    threads = [threading.Thread(target=take_until_empty, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(taken) == 100
    assert setup.get(1).stock == 0
    for store in [setup, *stores]:
        store.close()


def race(stores: list[ProductStore], call: Callable[[ProductStore], StockChange]) -> list[object]:
    """``call`` on every store at once (threads released by one barrier); each outcome, a
    ``StockChange`` or the error raised."""
    barrier = threading.Barrier(len(stores))
    outcomes: list[object] = [None] * len(stores)

    def run(index: int) -> None:
        barrier.wait(10)
        try:
            outcomes[index] = call(stores[index])
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_racing_reserves_of_one_reservation_id_take_stock_once(database: DatabaseUrl) -> None:
    """As a retried reserve reaching a second replica while the first still runs: every
    racer gets an answer, one takes the stock, the others are told it was taken before."""
    setup = ProductStore.open(database)
    setup.add("mug", 9.5, 10)
    stores = [ProductStore.open(database) for _ in range(4)]
    try:
        for round_ in range(5):
            outcomes = race(stores, lambda store, r=round_: store.reserve(1, 2, f"order-{r}"))
            assert all(isinstance(o, StockChange) for o in outcomes), outcomes
            applied = [o for o in outcomes if isinstance(o, StockChange) and o.applied]
            assert len(applied) == 1, outcomes
        assert setup.get(1).stock == 0
    finally:
        for store in [setup, *stores]:
            store.close()


def test_racing_releases_of_one_reservation_give_stock_back_once(database: DatabaseUrl) -> None:
    setup = ProductStore.open(database)
    setup.add("mug", 9.5, 10)
    stores = [ProductStore.open(database) for _ in range(4)]
    try:
        for round_ in range(5):
            setup.reserve(1, 2, f"order-{round_}")
            outcomes = race(stores, lambda store, r=round_: store.release(1, 2, f"order-{r}"))
            applied = [o for o in outcomes if isinstance(o, StockChange) and o.applied]
            assert len(applied) == 1, outcomes
            assert setup.get(1).stock == 10
    finally:
        for store in [setup, *stores]:
            store.close()
