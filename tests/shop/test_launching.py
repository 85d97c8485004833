from __future__ import annotations

import socket
from pathlib import Path

from slagate.shop.database import DatabaseUrl
from slagate.shop.launching import ServiceOptions, free_port, service_argv
from slagate.shop.settings import SigtermMode


def test_product_argv_carries_every_option() -> None:
    options = ServiceOptions(
        cpu_ms=2.5,
        startup_delay_s=1,
        on_sigterm=SigtermMode.EXIT,
        drain_timeout_s=3,
        error_ratio=0.25,
        latency_ms=40,
    )

    database = DatabaseUrl.sqlite(Path("/data/p.db"))
    argv = service_argv("product", 8001, database, options, python="py")

    assert argv == [
        "py", "-m", "slagate.shop", "product", "--host", "127.0.0.1", "--port", "8001",
        "--db", "/data/p.db", "--startup-delay", "1", "--cpu-ms", "2.5",
        "--on-sigterm", "exit", "--drain-timeout", "3", "--error-ratio", "0.25",
        "--latency-ms", "40",
    ]  # fmt: skip


def test_order_argv_names_the_product_service() -> None:
    argv = service_argv(
        "order",
        8002,
        DatabaseUrl.sqlite(Path("o.db")),
        ServiceOptions(),
        "http://127.0.0.1:8001",
        python="py",
    )

    assert argv[-2:] == ["--product-url", "http://127.0.0.1:8001"]


def test_a_postgres_database_is_passed_as_its_url() -> None:
    url = "postgresql://shop:pw@127.0.0.1:5432/shop"

    argv = service_argv("product", 8001, DatabaseUrl.parse(url), ServiceOptions(), python="py")

    assert argv[8:10] == ["--database-url", url]
    assert "--db" not in argv


def test_free_port_can_be_bound() -> None:
    port = free_port()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
