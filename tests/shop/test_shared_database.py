"""Replicas sharing one database, as real processes on loopback: what makes the shop's
writes safe on a multi-node cluster holds on PostgreSQL as it does on SQLite.

- Product replicas reserving at once never oversell, and a reservation id retried on
  another replica while the first call still runs takes stock once (both databases).
- ``no_lost_writes`` means the same on PostgreSQL: a real ``slagate run`` against a shop on
  the PostgreSQL server, whose order replica is killed (exit mode: at once, dropping what
  it was doing) under load and restarted, reads back every order it acknowledged. SQLite's
  side of it is the sandbox's rolling-deploy run (``tests/e2e/test_sandbox_runs.py``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from slagate.errors import ExitCode
from slagate.shop.database import DatabaseUrl
from slagate.shop.launching import LocalShop, ServiceOptions, free_port, service_argv
from slagate.shop.processes import ServiceProcess
from slagate.shop.settings import SigtermMode
from slagate.timeline import Table, read_table
from tests.e2e.conftest import scenario_text, start_slagate
from tests.shop.conftest import PostgresServer

pytestmark = pytest.mark.e2e

REPLICAS = 3
STOCK = 150


def start_product_replicas(
    stack: ExitStack, tmp_path: Path, database: DatabaseUrl
) -> list[ServiceProcess]:
    replicas = []
    for index in range(REPLICAS):
        port = free_port()
        argv = service_argv("product", port, database, ServiceOptions())
        log = tmp_path / f"product-{index}.log"
        replica = ServiceProcess.spawn(f"product-{index}", argv, f"http://127.0.0.1:{port}", log)
        stack.callback(replica.stop)
        replicas.append(replica)
    for replica in replicas:
        replica.wait_ready(30)
    return replicas


def reserve_until_sold_out(first: str, second: str, prefix: str) -> list[tuple[str, int, bool]]:
    """Reserve 1 item per id, each id on ``first`` and ``second`` at once, until a 409;
    (id, status, applied) of every answer."""
    answers: list[tuple[str, int, bool]] = []
    lock = threading.Lock()
    sold_out = threading.Event()

    def client(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
            for n in range(STOCK + 1):
                key = f"{prefix}-{n}"
                response = http.post(
                    "/products/1/reserve", json={"quantity": 1, "reservation_id": key}
                )
                applied = response.status_code == 200 and bool(response.json()["applied"])
                with lock:
                    answers.append((key, response.status_code, applied))
                if response.status_code != 200 or sold_out.is_set():
                    sold_out.set()
                    return

    threads = [threading.Thread(target=client, args=(url,)) for url in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def test_product_replicas_reserving_at_once_never_oversell(
    tmp_path: Path, database: DatabaseUrl
) -> None:
    with ExitStack() as stack:
        replicas = start_product_replicas(stack, tmp_path, database)
        urls = [replica.url for replica in replicas]
        created = httpx.post(
            f"{urls[0]}/products", json={"name": "mug", "price": 9.5, "stock": STOCK}
        )
        assert created.status_code == 201
        answers: list[tuple[str, int, bool]] = []
        pairs = [
            threading.Thread(
                target=lambda p=pair: answers.extend(
                    reserve_until_sold_out(urls[p], urls[(p + 1) % REPLICAS], f"pair{p}")
                )
            )
            for pair in range(REPLICAS)
        ]
        for pair in pairs:
            pair.start()
        for pair in pairs:
            pair.join(180)
        stocks = [httpx.get(f"{url}/products/1/stock").json()["stock"] for url in urls]

    assert {status for _, status, _ in answers} <= {200, 409}, answers
    applied = [key for key, _, was_applied in answers if was_applied]
    assert len(applied) == len(set(applied)), "a reservation id took stock twice"
    assert len(applied) == STOCK
    assert stocks == [0] * REPLICAS
    repeated = {key for key, status, was_applied in answers if status == 200 and not was_applied}
    assert repeated, "no id was answered from an earlier reservation: the race never happened"


@pytest.fixture
def postgres_shop(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[LocalShop]:
    # every order request waits 300 ms in the service: at the kill, orders are in flight
    # (4 users, 0.1-0.5 s between tasks), so the kill cuts requests by its mechanism, not
    # by the luck of a request landing in the restart's gap
    order = ServiceOptions(on_sigterm=SigtermMode.EXIT, latency_ms=300)
    database = postgres_server.new_schema()
    with LocalShop.start(tmp_path / "shop", order=order, database=database) as shop:
        yield shop


NO_ORDER_LOST = """\
load:
  locustfile: locustfiles/orders.py
  shape: constant
  users: 4
  spawn_rate: 4
  duration: 10s
drain: 1s
slas:
  - {id: no-order-lost, kind: no_lost_writes, ack_kind: order}
"""


def test_no_acknowledged_order_is_lost_when_a_replica_dies_under_load_on_postgres(
    tmp_path: Path, postgres_shop: LocalShop
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(scenario_text(postgres_shop, NO_ORDER_LOST, name="postgres-kill"))
    reports = tmp_path / "reports"
    run = start_slagate(
        ["run", str(scenario), "--reports", str(reports)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        run_dir = wait_for_acks(reports, run)
        postgres_shop.orders[0].send_signal(signal.SIGTERM)  # exit mode: dies at once
        killed_ms = int(time.time() * 1000)
        postgres_shop.restart_order(0)
        output, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()

    assert run.returncode == ExitCode.PASSED, output
    (verdict,) = json.loads((run_dir / "summary.json").read_text())["verdicts"]
    assert (verdict["id"], verdict["status"]) == ("no-order-lost", "pass"), verdict
    acks = read_table(run_dir, Table.ACKS)
    integrity = read_table(run_dir, Table.INTEGRITY)
    assert len(integrity) == acks["key"].nunique() > 0
    assert integrity["ok"].all()
    assert (acks["t_ms"] > killed_ms).any(), "no order was acknowledged after the restart"
    failures = read_table(run_dir, Table.FAILURES)
    assert len(failures) > 0, "the kill cut no request: it did not happen under load"


def wait_for_acks(reports: Path, run: subprocess.Popen[str]) -> Path:
    """The run folder, once it holds acknowledged orders (flushed every 2 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert run.poll() is None, "the run ended before the kill"
        runs = [p for p in reports.iterdir() if p.is_dir()] if reports.exists() else []
        if runs and len(read_table(runs[0], Table.ACKS)) > 0:
            return runs[0]
        time.sleep(0.2)
    raise AssertionError("no acknowledged order recorded within 60 s")
