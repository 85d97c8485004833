"""Shop traffic: browse, read and register products; create, read and cancel orders.

Product calls go to the product service (``--services product=URL``, SLAGATE_SERVICES or
the scenario's ``target.services``), else to ``--host`` (a gateway in front of both);
order calls go to ``--host``. Endpoint names group ids: ``/products/[id]``,
``/orders/[id]``, ``/orders/[id]/cancel``.

Every response is checked: a wrong status, a body that is not JSON or lacks a field is a
recorded failure (``response.failure``), never an exception, which would make Locust drop
the request (docs/locust.md, "Recording"). Created orders are recorded as
acknowledged writes (``acks`` table) so a run can check none was lost.

    locust -f locustfiles/orders.py --host http://127.0.0.1:8002 --services product=http://127.0.0.1:8001
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, between, task

from slagate.locust_plugin import acknowledge, service_url

STOCK = 1_000_000_000  # the product service's maximum: orders never run out
PRODUCTS_ON_START = 3
KNOWN_MAX = 100  # ids each user remembers


def expect(response: Any, status: int, *fields: str) -> dict[str, Any] | None:
    """The JSON object of a ``status`` response holding ``fields``; else None.

    Marks the request failed for a success status other than ``status``, a body that is
    not a JSON object, or a missing field. Error statuses (and connection errors) fail on
    their own when the ``with`` block ends. Never raises.
    """
    if response.status_code != status:
        if 200 <= response.status_code < 400:
            response.failure(f"expected HTTP {status}, got {response.status_code}")
        return None
    try:
        body = response.json()
    except ValueError:
        response.failure(f"response is not JSON: {str(response.text)[:100]!r}")
        return None
    missing = [f for f in fields if not isinstance(body, dict) or f not in body]
    if missing:
        response.failure(f"response lacks {', '.join(missing)}: {str(body)[:100]}")
        return None
    return body  # type: ignore[no-any-return]


def remember(known: list[Any], value: Any) -> None:
    known.append(value)
    if len(known) > KNOWN_MAX:
        known.pop(0)


class ShopUser(FastHttpUser):
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        base = service_url(self.environment, "product", default=self.host)
        self.products_url = f"{base}/products"
        self.product_ids: list[int] = []
        self.order_ids: list[str] = []
        for _ in range(PRODUCTS_ON_START):
            self.register_product()

    @task(6)
    def browse_products(self) -> None:
        url = f"{self.products_url}?limit=20"
        with self.client.get(url, name="/products", catch_response=True) as r:
            page = expect(r, 200, "items")
            if page is None:
                return
            if not isinstance(page["items"], list):
                r.failure(f"items is not a list: {str(page['items'])[:100]}")
                return
            for item in page["items"]:
                if isinstance(item, dict) and isinstance(item.get("id"), int):
                    remember(self.product_ids, item["id"])

    @task(4)
    def get_product(self) -> None:
        if not self.product_ids:
            return
        url = f"{self.products_url}/{random.choice(self.product_ids)}"
        with self.client.get(url, name="/products/[id]", catch_response=True) as r:
            expect(r, 200, "id", "name", "price", "stock")

    @task(1)
    def register_product(self) -> None:
        product = {"name": f"item-{random.randrange(10**9)}", "price": 9.5, "stock": STOCK}
        with self.client.post(
            self.products_url, json=product, name="/products", catch_response=True
        ) as r:
            body = expect(r, 201, "id")
            if body is not None:
                remember(self.product_ids, body["id"])

    @task(3)
    def create_order(self) -> None:
        if not self.product_ids:
            return
        order = {"product_id": random.choice(self.product_ids), "quantity": 1}
        with self.client.post("/orders", json=order, name="/orders", catch_response=True) as r:
            body = expect(r, 201, "id", "status")
            if body is None:
                return
            if body["status"] != "created":
                r.failure(f"new order has status {body['status']!r}, expected 'created'")
                return
            remember(self.order_ids, str(body["id"]))
            acknowledge(self.environment, "order", body["id"])

    @task(2)
    def get_order(self) -> None:
        if not self.order_ids:
            return
        url = f"/orders/{random.choice(self.order_ids)}"
        with self.client.get(url, name="/orders/[id]", catch_response=True) as r:
            expect(r, 200, "id", "status")

    @task(1)
    def cancel_order(self) -> None:
        if not self.order_ids:
            return
        url = f"/orders/{self.order_ids.pop()}/cancel"
        with self.client.post(url, name="/orders/[id]/cancel", catch_response=True) as r:
            body = expect(r, 200, "status")
            if body is not None and body["status"] != "cancelled":
                r.failure(f"cancelled order has status {body['status']!r}")
