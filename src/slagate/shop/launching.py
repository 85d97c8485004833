"""``LocalShop``: the whole reference shop as real processes on loopback.

For tests and the demo: one product service and one or more order replicas, each replica
on a port of its own (so a single replica can be killed and restarted on the same port),
with their SQLite files and logs under one data directory::

    with LocalShop.start(tmp_path, order=ServiceOptions(cpu_ms=5)) as shop:
        httpx.post(f"{shop.order_url}/orders", json={"product_id": 1, "quantity": 1})

LocalShop does not balance over order replicas; ``order_urls`` lists them all. Products and
orders live in two SQLite files so the two services never wait for each other's locks;
with ``database=`` (a PostgreSQL server) both services use that one database, passed on
their command lines (``--database-url``): loopback test credentials only.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from slagate.errors import ConfigError
from slagate.extras import SANDBOX
from slagate.shop.database import Backend, DatabaseUrl
from slagate.shop.processes import ServiceProcess
from slagate.shop.settings import SigtermMode

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServiceOptions:
    """Per-service options of a local launch; see ``AppSettings`` and ``ServerSettings``."""

    cpu_ms: float = 0.0
    """CPU milliseconds burnt per business request."""

    startup_delay_s: float = 0.0
    """Seconds after process start during which readiness fails."""

    on_sigterm: SigtermMode = SigtermMode.DRAIN
    """``drain`` (finish in-flight requests) or ``exit`` (die at once, a fault mode)."""

    drain_timeout_s: float = 10.0
    """Seconds a draining process may take to finish in-flight requests."""

    error_ratio: float = 0.0
    """The share of business requests answered 500 on purpose (``--error-ratio``)."""

    latency_ms: float = 0.0
    """Milliseconds every business request waits without using CPU (``--latency-ms``)."""


def service_argv(
    service: str,
    port: int,
    database: DatabaseUrl,
    options: ServiceOptions,
    product_url: str | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The command line that runs one replica of ``service`` ("product" or "order")."""
    argv = [python, "-m", "slagate.shop", service, "--host", HOST, "--port", str(port)]
    if database.backend is Backend.SQLITE:
        argv += ["--db", str(database.path)]
    else:
        argv += ["--database-url", database.target]
    argv += ["--startup-delay", f"{options.startup_delay_s:g}"]
    argv += ["--cpu-ms", f"{options.cpu_ms:g}", "--on-sigterm", options.on_sigterm.value]
    argv += ["--drain-timeout", f"{options.drain_timeout_s:g}"]
    argv += ["--error-ratio", f"{options.error_ratio:g}"]
    argv += ["--latency-ms", f"{options.latency_ms:g}"]
    if product_url is not None:
        argv += ["--product-url", product_url]
    return argv


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (another process could still take it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalShop:
    """A running local shop; stop it with ``stop()`` or by leaving its ``with`` block."""

    def __init__(self, product: ServiceProcess, orders: Sequence[ServiceProcess]) -> None:
        self.product = product
        self.orders = list(orders)

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        product_port: int | None = None,
        order_port: int | None = None,
        order_replicas: int = 1,
        product: ServiceOptions = ServiceOptions(),
        order: ServiceOptions = ServiceOptions(),
        ready_timeout_s: float = 30.0,
        database: DatabaseUrl | None = None,
    ) -> LocalShop:
        """Start every process, then wait until all are ready (``ShopStartError`` if not).

        Ports left None are picked free; ``order_port`` is replica 0's, the others get
        free ports. ``database`` None: a SQLite file per service in ``data_dir``. Nothing
        keeps running if the start fails. ``ExtraNotInstalled`` before anything starts
        without ``slagate[sandbox]``.
        """
        SANDBOX.require("the reference shop")
        if order_replicas < 1:
            raise ConfigError(f"order_replicas must be at least 1, got {order_replicas}")
        data_dir.mkdir(parents=True, exist_ok=True)
        products = database or DatabaseUrl.sqlite(data_dir / "products.db")
        orders = database or DatabaseUrl.sqlite(data_dir / "orders.db")
        product_process = _spawn_product(data_dir, products, product_port or free_port(), product)
        shop = cls(product_process, [])
        try:
            for index in range(order_replicas):
                port = (order_port if index == 0 else None) or free_port()
                shop.orders.append(
                    _spawn_order(data_dir, orders, index, port, order, product_process.url)
                )
            shop.wait_ready(ready_timeout_s)
        except BaseException:
            shop.stop()
            raise
        return shop

    @property
    def product_url(self) -> str:
        return self.product.url

    @property
    def order_url(self) -> str:
        """The first order replica's URL."""
        return self.orders[0].url

    @property
    def order_urls(self) -> list[str]:
        return [replica.url for replica in self.orders]

    def wait_ready(self, timeout_s: float) -> None:
        for process in [self.product, *self.orders]:
            process.wait_ready(timeout_s)

    def restart_order(self, index: int = 0, ready_timeout_s: float = 30.0) -> ServiceProcess:
        """Stop order replica ``index`` if it still runs, start it again on the same port and
        database, and wait until it is ready."""
        self.orders[index].stop()
        replacement = self.orders[index].respawn()
        self.orders[index] = replacement
        replacement.wait_ready(ready_timeout_s)
        return replacement

    def stop(self, grace_s: float = 15.0) -> None:
        """Stop the order replicas, then the product service (each SIGTERM, then SIGKILL)."""
        for process in [*self.orders, self.product]:
            process.stop(grace_s)

    def __enter__(self) -> LocalShop:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _spawn_product(
    data_dir: Path, database: DatabaseUrl, port: int, options: ServiceOptions
) -> ServiceProcess:
    argv = service_argv("product", port, database, options)
    return ServiceProcess.spawn("product", argv, f"http://{HOST}:{port}", data_dir / "product.log")


def _spawn_order(
    data_dir: Path,
    database: DatabaseUrl,
    index: int,
    port: int,
    options: ServiceOptions,
    product_url: str,
) -> ServiceProcess:
    argv = service_argv("order", port, database, options, product_url)
    name = f"order-{index}"
    return ServiceProcess.spawn(name, argv, f"http://{HOST}:{port}", data_dir / f"{name}.log")
