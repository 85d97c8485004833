"""The shop as real processes on loopback: HTTP, metrics, readiness, SIGTERM, restarts."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from slagate.errors import ShopStartError
from slagate.shop.database import Backend, DatabaseUrl
from slagate.shop.launching import LocalShop, ServiceOptions, free_port, service_argv
from slagate.shop.processes import ServiceProcess
from slagate.shop.settings import SigtermMode

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalShop]:
    with LocalShop.start(tmp_path_factory.mktemp("shop"), ready_timeout_s=20) as shop:
        yield shop


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


def register(http: httpx.Client, shop: LocalShop, stock: int) -> int:
    body = {"name": "mug", "price": 9.5, "stock": stock}
    response = http.post(f"{shop.product_url}/products", json=body)
    assert response.status_code == 201
    return int(response.json()["id"])


def test_orders_reserve_and_cancel_restores_stock_once(shop: LocalShop, http: httpx.Client) -> None:
    product_id = register(http, shop, stock=3)
    order = {"product_id": product_id, "quantity": 2}

    created = http.post(f"{shop.order_url}/orders", json=order)
    oversold = http.post(f"{shop.order_url}/orders", json=order)
    order_id = created.json()["id"]
    cancels = [http.post(f"{shop.order_url}/orders/{order_id}/cancel") for _ in range(2)]
    fetched = http.get(f"{shop.order_url}/orders/{order_id}")
    stock = http.get(f"{shop.product_url}/products/{product_id}/stock")

    assert created.status_code == 201
    assert oversold.status_code == 409
    assert [c.status_code for c in cancels] == [200, 200]
    assert fetched.json()["status"] == "cancelled"
    assert stock.json() == {"product_id": product_id, "stock": 3}


def test_metrics_label_by_route_template(shop: LocalShop, http: httpx.Client) -> None:
    product_id = register(http, shop, stock=1)
    created = http.post(f"{shop.order_url}/orders", json={"product_id": product_id, "quantity": 1})
    http.get(f"{shop.order_url}/orders/{created.json()['id']}")

    text = http.get(f"{shop.order_url}/metrics").text

    assert "# TYPE http_request_duration_seconds histogram" in text
    assert (
        'http_request_duration_seconds_count{method="GET",path="/orders/{order_id}",status="200"}'
        in text
    )
    assert created.json()["id"] not in text


def test_readiness_waits_for_the_startup_delay(tmp_path: Path, http: httpx.Client) -> None:
    port = free_port()
    database = DatabaseUrl.sqlite(tmp_path / "p.db")
    argv = service_argv("product", port, database, ServiceOptions(startup_delay_s=1.5))
    spawned_at = time.monotonic()
    process = ServiceProcess.spawn("product", argv, f"http://127.0.0.1:{port}", tmp_path / "p.log")
    try:
        statuses = poll_readiness(http, process, seconds=10)
        became_ready_s = time.monotonic() - spawned_at
    finally:
        process.stop()

    assert statuses[0] == 503
    assert statuses[-1] == 200
    assert became_ready_s >= 1.5 - 0.02  # the kernel knows the process start to 10 ms


def poll_readiness(http: httpx.Client, process: ServiceProcess, seconds: float) -> list[int]:
    """Readiness statuses seen (connection refusals skipped) until the first 200."""
    statuses: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and statuses[-1:] != [200]:
        try:
            statuses.append(http.get(f"{process.url}/healthz/ready").status_code)
        except httpx.TransportError:
            time.sleep(0.02)
    return statuses


@pytest.mark.parametrize(
    ("mode", "answered", "exit_code"),
    [
        pytest.param(SigtermMode.DRAIN, True, 0, id="drain-finishes-in-flight"),
        pytest.param(SigtermMode.EXIT, False, 143, id="exit-drops-in-flight"),
    ],
)
def test_sigterm_while_a_request_is_in_flight(
    tmp_path: Path, mode: SigtermMode, answered: bool, exit_code: int
) -> None:
    options = ServiceOptions(cpu_ms=1500, on_sigterm=mode)
    port = free_port()
    argv = service_argv("product", port, DatabaseUrl.sqlite(tmp_path / "p.db"), options)
    process = ServiceProcess.spawn("product", argv, f"http://127.0.0.1:{port}", tmp_path / "p.log")
    try:
        process.wait_ready(20)
        outcome = slow_request_interrupted_by_sigterm(process)
        status = process.wait(10)
    finally:
        process.stop()

    assert (outcome == 200) is answered
    assert status == exit_code


def slow_request_interrupted_by_sigterm(process: ServiceProcess) -> int | str:
    """Send a CPU-burning request, SIGTERM once the burn is visibly under way."""
    outcome: list[int | str] = []

    def request() -> None:
        with httpx.Client(timeout=10, trust_env=False) as client:
            try:
                outcome.append(client.get(f"{process.url}/products").status_code)
            except httpx.TransportError as e:
                outcome.append(type(e).__name__)

    cpu_before_s = cpu_seconds(process.pid)
    sender = threading.Thread(target=request)
    sender.start()
    wait_for(lambda: cpu_seconds(process.pid) - cpu_before_s > 0.2, seconds=5)
    process.send_signal(signal.SIGTERM)
    sender.join(15)
    return outcome[0]


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_killed_order_replica_restarts_on_its_port_with_orders_intact(
    tmp_path: Path, http: httpx.Client, database: DatabaseUrl
) -> None:
    """On both databases (``database``); the shop's own SQLite files when it is SQLite."""
    order_options = ServiceOptions(on_sigterm=SigtermMode.EXIT)
    shared = database if database.backend is Backend.POSTGRES else None
    with LocalShop.start(tmp_path, order_replicas=2, order=order_options, database=shared) as shop:
        product_id = register(http, shop, stock=5)
        created = http.post(
            f"{shop.order_url}/orders", json={"product_id": product_id, "quantity": 1}
        )
        victim = shop.orders[0]

        victim.send_signal(signal.SIGTERM)
        victim_status = victim.wait(10)
        survivor = http.get(f"{shop.order_urls[1]}/orders/{created.json()['id']}")
        replacement = shop.restart_order(0)
        after = http.get(f"{shop.order_url}/orders/{created.json()['id']}")

    assert victim_status == 143
    assert survivor.status_code == 200
    assert replacement.url == victim.url
    assert replacement.pid != victim.pid
    assert after.json()["status"] == "created"


def test_start_failure_names_the_cause_from_the_log(tmp_path: Path) -> None:
    with held_port() as taken_port, pytest.raises(ShopStartError) as caught:
        LocalShop.start(tmp_path, product_port=taken_port, ready_timeout_s=20)

    assert "exited with status 2" in str(caught.value)
    assert f"cannot listen on 127.0.0.1:{taken_port}" in str(caught.value)


@contextmanager
def held_port() -> Iterator[int]:
    """A loopback port this process listens on for the duration of the block."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_children_die_with_their_parent(tmp_path: Path) -> None:
    script = (
        "import sys, time; from pathlib import Path\n"
        "from slagate.shop.launching import LocalShop\n"
        "shop = LocalShop.start(Path(sys.argv[1]))\n"
        "print(shop.product.pid, shop.orders[0].pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    argv = [sys.executable, "-c", script, str(tmp_path)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as parent:
        try:
            assert parent.stdout is not None
            children = [psutil.Process(int(pid)) for pid in parent.stdout.readline().split()]
        finally:
            parent.kill()
    _gone, alive = psutil.wait_procs(children, timeout=10)

    assert len(children) == 2
    assert alive == []
