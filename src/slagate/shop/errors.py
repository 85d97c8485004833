"""The shop's errors: business outcomes the apps turn into HTTP statuses.

They hang under slagate's root error so callers catch one tree::

    ShopError                       (slagate.errors.SlagateError)
    ├── NotFound                    -> 404
    │   ├── UnknownProduct
    │   └── UnknownOrder
    ├── Conflict                    -> 409
    │   ├── InsufficientStock       a reservation would oversell
    │   └── ReservationConflict     a reservation id reused for something else
    ├── ProductServiceError         -> 502: the product service answered wrongly
    │   └── ProductServiceUnavailable -> 503: it could not be reached in time
    └── ShopStartError              a local service process did not become ready

The HTTP mapping lives in the apps (``apps.ERROR_STATUSES``), not here: the stores raise
these without knowing they are served over HTTP.
"""

from __future__ import annotations

from slagate.errors import SlagateError


class ShopError(SlagateError):
    """Root of the reference shop's errors."""


class NotFound(ShopError):
    """The addressed product or order does not exist."""


class UnknownProduct(NotFound):
    """No product has this id."""

    def __init__(self, product_id: int) -> None:
        self.product_id = product_id
        super().__init__(f"unknown product {product_id}")


class UnknownOrder(NotFound):
    """No order has this id."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"unknown order {order_id!r}")


class Conflict(ShopError):
    """The request is valid but contradicts the stored state."""


class InsufficientStock(Conflict):
    """Reserving would take the stock below zero; nothing was reserved."""

    def __init__(self, product_id: int, requested: int, available: int) -> None:
        self.product_id = product_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"insufficient stock for product {product_id}: "
            f"{requested} requested, {available} available"
        )


class ReservationConflict(Conflict):
    """A reservation id is unknown, or was used for another product or quantity."""


class ProductServiceError(ShopError):
    """The product service answered the order service with an unexpected status."""


class ProductServiceUnavailable(ProductServiceError):
    """The product service could not be reached or did not answer in time."""


class ShopStartError(ShopError):
    """A shop process exited or stayed unready; the message carries its log tail."""
