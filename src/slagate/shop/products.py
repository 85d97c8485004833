"""The product catalogue and its stock, in SQLite or PostgreSQL (``slagate.shop.database``).

Product ids are integers the database assigns (1, 2, ...): short, cheap to index and easy
for a load generator to pick. Stock only changes through ``reserve`` and ``release``, each
one transaction, and the stock is only ever taken by a conditional ``UPDATE ... WHERE stock
>= ?``, so any number of replicas sharing the database never oversell.

A reservation may carry an id (the order service uses the order id). The product store
then remembers it, which makes both calls idempotent: reserving the same id twice takes
stock once, releasing it twice gives stock back once. That is what makes an order's cancel
safe to retry or race. A reservation id is claimed first (``INSERT ... ON CONFLICT DO
NOTHING``): of two replicas reserving the same id at once, the second waits for the first
and then answers from its reservation; a release flips ``released`` only from 0 to 1, so of
two racing releases one gives the stock back.
"""

from __future__ import annotations

from dataclasses import dataclass

from slagate.errors import InsufficientStock, ReservationConflict, UnknownProduct
from slagate.shop.database import AUTO_ID, Database, DatabaseUrl, open_database

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS products (
    id {AUTO_ID},
    name TEXT NOT NULL,
    price DOUBLE PRECISION NOT NULL,
    stock BIGINT NOT NULL CHECK (stock >= 0)
);
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL,
    released INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Product:
    """One catalogue entry; ``price`` in the shop's single currency unit."""

    id: int
    name: str
    price: float
    stock: int


@dataclass(frozen=True)
class ProductPage:
    """A slice of the catalogue ordered by id, as asked for by ``limit`` and ``offset``."""

    items: list[Product]
    limit: int
    offset: int


@dataclass(frozen=True)
class StockChange:
    """The outcome of a reserve or release.

    ``applied`` is False when a repeated reservation id made the call a no-op; ``stock``
    is the stock after the call either way.
    """

    product_id: int
    quantity: int
    stock: int
    reservation_id: str | None
    applied: bool


@dataclass(frozen=True)
class _Reservation:
    product_id: int
    quantity: int
    released: bool


class ProductStore:
    """Products on one database connection; use it from one thread at a time."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @classmethod
    def open(cls, url: DatabaseUrl) -> ProductStore:
        """Open (and create if needed) the product tables in the database at ``url``."""
        return cls(open_database(url, SCHEMA))

    def close(self) -> None:
        self._db.close()

    def add(self, name: str, price: float, stock: int) -> Product:
        row = self._db.fetch_one(
            "INSERT INTO products (name, price, stock) VALUES (?, ?, ?) RETURNING id",
            (name, price, stock),
        )
        assert row is not None  # RETURNING of an INSERT that succeeded
        return Product(id=row[0], name=name, price=price, stock=stock)

    def get(self, product_id: int) -> Product:
        row = self._db.fetch_one(
            "SELECT id, name, price, stock FROM products WHERE id = ?", (product_id,)
        )
        if row is None:
            raise UnknownProduct(product_id)
        return Product(*row)

    def page(self, limit: int, offset: int) -> ProductPage:
        rows = self._db.fetch_all(
            "SELECT id, name, price, stock FROM products ORDER BY id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return ProductPage(items=[Product(*row) for row in rows], limit=limit, offset=offset)

    def reserve(
        self, product_id: int, quantity: int, reservation_id: str | None = None
    ) -> StockChange:
        """Take ``quantity`` from the stock, all or nothing.

        Raises ``UnknownProduct``, ``InsufficientStock`` (nothing taken), or
        ``ReservationConflict`` when ``reservation_id`` was used differently before.
        """
        with self._db.transaction():
            if reservation_id is not None and not self._claim(reservation_id, product_id, quantity):
                return self._repeated_reserve(reservation_id, product_id, quantity)
            stock = self._take(product_id, quantity)  # its error rolls the claim back
        return StockChange(product_id, quantity, stock, reservation_id, applied=True)

    def release(
        self, product_id: int, quantity: int, reservation_id: str | None = None
    ) -> StockChange:
        """Give ``quantity`` back to the stock; with a ``reservation_id``, at most once.

        Raises ``UnknownProduct``, or ``ReservationConflict`` when the reservation is
        unknown or was made for another product or quantity.
        """
        with self._db.transaction():
            if reservation_id is None:
                stock = self._give_back(product_id, quantity)
                return StockChange(product_id, quantity, stock, None, applied=True)
            done = self._require_reservation(reservation_id, product_id, quantity)
            if done.released or not self._mark_released(reservation_id):
                stock = self.get(product_id).stock
                return StockChange(product_id, quantity, stock, reservation_id, applied=False)
            stock = self._give_back(product_id, quantity)
        return StockChange(product_id, quantity, stock, reservation_id, applied=True)

    def _take(self, product_id: int, quantity: int) -> int:
        row = self._db.fetch_one(
            "UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ? RETURNING stock",
            (quantity, product_id, quantity),
        )
        if row is None:
            raise InsufficientStock(product_id, quantity, self.get(product_id).stock)
        return int(row[0])

    def _give_back(self, product_id: int, quantity: int) -> int:
        row = self._db.fetch_one(
            "UPDATE products SET stock = stock + ? WHERE id = ? RETURNING stock",
            (quantity, product_id),
        )
        if row is None:
            raise UnknownProduct(product_id)
        return int(row[0])

    def _find_reservation(self, reservation_id: str) -> _Reservation | None:
        row = self._db.fetch_one(
            "SELECT product_id, quantity, released FROM reservations WHERE id = ?",
            (reservation_id,),
        )
        return None if row is None else _Reservation(row[0], row[1], bool(row[2]))

    def _require_reservation(
        self, reservation_id: str, product_id: int, quantity: int
    ) -> _Reservation:
        done = self._find_reservation(reservation_id)
        if done is None:
            self.get(product_id)
            raise ReservationConflict(f"unknown reservation {reservation_id!r}")
        _check_same(done, reservation_id, product_id, quantity)
        return done

    def _claim(self, reservation_id: str, product_id: int, quantity: int) -> bool:
        """Record the reservation id for an existing product; False if it was recorded
        before (by this call's earlier try, or a racing one) or the product is unknown."""
        row = self._db.fetch_one(
            "INSERT INTO reservations (id, product_id, quantity) "
            "SELECT ?, id, ? FROM products WHERE id = ? "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            (reservation_id, quantity, product_id),
        )
        return row is not None

    def _repeated_reserve(self, reservation_id: str, product_id: int, quantity: int) -> StockChange:
        """The answer to a reserve whose id could not be claimed."""
        done = self._find_reservation(reservation_id)
        if done is None:
            raise UnknownProduct(product_id)
        _check_same(done, reservation_id, product_id, quantity)
        if done.released:
            raise ReservationConflict(f"reservation {reservation_id!r} was already released")
        stock = self.get(product_id).stock
        return StockChange(product_id, quantity, stock, reservation_id, applied=False)

    def _mark_released(self, reservation_id: str) -> bool:
        """Flip the reservation to released; False if a racing release did it first."""
        row = self._db.fetch_one(
            "UPDATE reservations SET released = 1 WHERE id = ? AND released = 0 RETURNING id",
            (reservation_id,),
        )
        return row is not None


def _check_same(done: _Reservation, reservation_id: str, product_id: int, quantity: int) -> None:
    if (done.product_id, done.quantity) != (product_id, quantity):
        raise ReservationConflict(
            f"reservation {reservation_id!r} is for {done.quantity} of product "
            f"{done.product_id}, not {quantity} of product {product_id}"
        )
