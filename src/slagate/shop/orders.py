"""Orders as stored by the order service, in SQLite or PostgreSQL (``slagate.shop.database``).

Order ids are uuid4 hex strings chosen by the order service *before* it reserves stock:
the id doubles as the reservation id at the product service, so a cancel (or a retried
cancel, or two racing cancels on two replicas) releases the stock at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from slagate.errors import UnknownOrder
from slagate.shop.database import Database, DatabaseUrl, open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    product_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    status TEXT NOT NULL
);
"""


class OrderStatus(StrEnum):
    CREATED = "created"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Order:
    id: str
    product_id: int
    quantity: int
    status: OrderStatus


class OrderStore:
    """Orders on one database connection; use it from one thread at a time."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @classmethod
    def open(cls, url: DatabaseUrl) -> OrderStore:
        """Open (and create if needed) the order table in the database at ``url``."""
        return cls(open_database(url, SCHEMA))

    def close(self) -> None:
        self._db.close()

    def add(self, order: Order) -> None:
        """Store a new order; its stock must already be reserved. Committed on return."""
        self._db.execute(
            "INSERT INTO orders (id, product_id, quantity, status) VALUES (?, ?, ?, ?)",
            (order.id, order.product_id, order.quantity, order.status.value),
        )

    def get(self, order_id: str) -> Order:
        row = self._db.fetch_one(
            "SELECT id, product_id, quantity, status FROM orders WHERE id = ?", (order_id,)
        )
        if row is None:
            raise UnknownOrder(order_id)
        return Order(row[0], row[1], row[2], OrderStatus(row[3]))

    def mark_cancelled(self, order_id: str) -> Order:
        """Set the order's status to cancelled; doing it again changes nothing.

        Call it only after the stock was released: an order shown as cancelled must not
        still hold stock.
        """
        row = self._db.fetch_one(
            "UPDATE orders SET status = ? WHERE id = ? RETURNING id, product_id, quantity, status",
            (OrderStatus.CANCELLED.value, order_id),
        )
        if row is None:
            raise UnknownOrder(order_id)
        return Order(row[0], row[1], row[2], OrderStatus(row[3]))
