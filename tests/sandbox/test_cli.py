"""``slagate sandbox up|status|down`` end to end: real daemons, real pods, the real proxy,
the real Prometheus.

One sandbox (the shop overlay) runs for the whole module; a second one is started beside
it and brought down again by its own test. Every process a daemon started is collected
with psutil, and the module ends by checking that none of them is left and that nothing
listens on the Prometheus port any more. The Prometheus tests query its HTTP API for what
it scraped: the pods (through http_sd and relabeling), the proxy's Istio metrics,
kube-state-metrics and cAdvisor; they skip where no ``prometheus`` binary is installed.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from slagate.sandbox.daemon import DaemonState, read_state
from slagate.sandbox.monitoring import missing_message

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SETTLE_TIMEOUT_S = 60.0


def sandbox_cli(args: Sequence[str], timeout_s: float = 90) -> subprocess.CompletedProcess[str]:
    """``python -m slagate.sandbox ARGS`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "slagate.sandbox", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "COLUMNS": "200"},
    )


@dataclass
class Running:
    state_dir: Path
    up: subprocess.CompletedProcess[str]
    state: DaemonState

    def url(self, service: str) -> str:
        return self.state.services[f"default/{service}"]

    def processes(self) -> list[psutil.Process]:
        daemon = psutil.Process(self.state.pid)
        return [daemon, *daemon.children(recursive=True)]


def start(state_dir: Path) -> Running:
    done = sandbox_cli(["up", "--state-dir", str(state_dir), "--timeout", "60"])
    assert done.returncode == 0, done.stderr + done.stdout
    state = read_state(state_dir)
    assert state is not None
    return Running(state_dir, done, state)


def stop_and_reap(running: Running) -> subprocess.CompletedProcess[str]:
    """``down``, then make sure (with SIGKILL if need be) that nothing is left."""
    try:
        family = running.processes()
    except psutil.NoSuchProcess:
        family = []
    done = sandbox_cli(["down", "--state-dir", str(running.state_dir)])
    for process in family:
        if process.is_running():
            process.kill()
    return done


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start(tmp_path_factory.mktemp("sandbox-a"))
    family = running.processes()
    yield running
    done = stop_and_reap(running)
    assert done.returncode == 0, done.stderr
    assert [p.pid for p in family if p.is_running()] == []
    if running.state.prometheus_url is not None:
        assert not listening(running.state.prometheus_url)


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


def test_up_prints_the_kubeconfig_and_every_service_url(sandbox: Running) -> None:
    kubeconfig = sandbox.state_dir.resolve() / "kubeconfig"

    assert f'sandbox "default" is up (pid {sandbox.state.pid}' in sandbox.up.stdout
    assert f"export KUBECONFIG={kubeconfig}" in sandbox.up.stdout
    assert f"default/order    {sandbox.url('order')}" in sandbox.up.stdout
    assert f"default/product  {sandbox.url('product')}" in sandbox.up.stdout
    if sandbox.state.prometheus_url is None:
        assert f"prometheus: not running ({missing_message()})" in sandbox.up.stdout
    else:
        assert f"prometheus: {sandbox.state.prometheus_url}\n" in sandbox.up.stdout


def test_pods_are_ready_and_run_as_processes(sandbox: Running) -> None:
    # a container's program, not the unshare that holds its PID namespace (where used)
    programs = [p.cmdline() for p in sandbox.processes()[1:]]
    commands = [" ".join(c) for c in programs if c and Path(c[0]).name != "unshare"]

    assert sum("slagate.shop product" in c for c in commands) == 2
    assert sum("slagate.shop order" in c for c in commands) >= 1  # the HPA may have added some
    assert sum("slagate.sandbox proxy" in c for c in commands) == 1
    prometheus = 0 if sandbox.state.prometheus_url is None else 1
    assert sum("--storage.tsdb.path=" in c for c in commands) == prometheus


def test_an_order_goes_through_the_proxy(sandbox: Running) -> None:
    with httpx.Client(timeout=10, trust_env=False) as http:
        product = http.post(
            f"{sandbox.url('product')}/products", json={"name": "tea", "price": 2.5, "stock": 10}
        )
        order = http.post(
            f"{sandbox.url('order')}/orders",
            json={"product_id": product.json()["id"], "quantity": 2},
        )
        stock = http.get(f"{sandbox.url('product')}/products/{product.json()['id']}/stock")

    assert (product.status_code, order.status_code) == (201, 201)
    assert order.json()["status"] == "created"
    assert stock.json()["stock"] == 8
    assert "x-slagate-proxy" not in order.headers


def test_up_again_reports_the_running_sandbox(sandbox: Running) -> None:
    again = sandbox_cli(["up", "--state-dir", str(sandbox.state_dir)])

    assert again.returncode == 0, again.stderr
    assert f'sandbox "default" is already running (pid {sandbox.state.pid}' in again.stdout
    assert sandbox.url("order") in again.stdout


def test_up_names_the_data_plane_and_refuses_another_for_a_running_sandbox(
    sandbox: Running,
) -> None:
    other = sandbox_cli(["up", "--state-dir", str(sandbox.state_dir), "--data-plane", "kube-proxy"])

    assert "; data plane per-request (" in sandbox.up.stdout  # the overlay's setting
    assert sandbox.state.data_plane == "per-request"
    assert other.returncode == 2, other.stdout
    assert (
        "--data-plane kube-proxy: the sandbox 'default' already runs with data plane "
        "per-request; stop it first (slagate sandbox down)"
    ) in " ".join(other.stderr.split())
    slower = sandbox_cli(["up", "--state-dir", str(sandbox.state_dir), "--timing", "real-time"])
    assert slower.returncode == 2, slower.stdout
    assert (
        "--timing real-time: the sandbox 'default' already runs with timing compressed"
    ) in " ".join(slower.stderr.split())


def test_status_lists_deployments_hpas_and_pods(sandbox: Running) -> None:
    done = settled_status(sandbox.state_dir)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    order = hpa_replicas(lines, "order")
    assert deployment_columns(lines, "order") == [f"{order}/{order}", order, order]
    assert deployment_columns(lines, "product") == ["2/2", "2", "2"]  # no HPA
    assert any(line.split()[:2] == ["order", "Deployment/order"] for line in lines)
    assert sum(line.startswith("product-") and " Running " in line for line in lines) == 2
    assert f"default/order    {sandbox.url('order')}" in done.stdout
    assert f"prometheus: {sandbox.state.prometheus_url or 'not running'}" in done.stdout


def test_the_api_token_is_only_in_the_private_kubeconfig(sandbox: Running) -> None:
    kubeconfig = Path(sandbox.state.kubeconfig)
    token = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))["users"][0]["user"]["token"]
    status = sandbox_cli(["status", "--state-dir", str(sandbox.state_dir)])
    files = [p for p in sandbox.state_dir.rglob("*") if p.is_file() and p != kubeconfig]
    processes = sandbox.processes()

    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert sandbox.state.api_url.startswith("https://127.0.0.1:")
    assert status.returncode == 0, status.stderr
    assert token not in sandbox.up.stdout + sandbox.up.stderr + status.stdout + status.stderr
    assert [p.name for p in files if token.encode() in p.read_bytes()] == []
    assert [p.pid for p in processes if token in " ".join(p.cmdline())] == []
    assert [p.pid for p in processes if token in " ".join(p.environ().values())] == []


def settled_status(state_dir: Path) -> subprocess.CompletedProcess[str]:
    """``status`` once it shows a settled cluster: every Deployment fully available and the
    order Deployment at the replicas its HPA reports. ``up`` returns when the daemon answers
    and the pods it started are ready, but the HPA may rescale order at any sync after
    that; the last output is returned after ``SETTLE_TIMEOUT_S`` for the asserts to show."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        done = sandbox_cli(["status", "--state-dir", str(state_dir)])
        if (done.returncode == 0 and settled(done.stdout.splitlines())) or (
            time.monotonic() > deadline
        ):
            return done
        time.sleep(0.5)


def settled(lines: list[str]) -> bool:
    order, product = (deployment_columns(lines, name) for name in ("order", "product"))
    complete = fully_available(order) and fully_available(product)
    return complete and order[1] == hpa_replicas(lines, "order")


def fully_available(columns: list[str]) -> bool:
    """READY n/n, UP-TO-DATE n and AVAILABLE n: one number throughout."""
    return bool(columns) and len({*columns[0].split("/"), *columns[1:]}) == 1


def deployment_columns(lines: list[str], name: str) -> list[str]:
    """READY, UP-TO-DATE and AVAILABLE of Deployment ``name`` ([] if not listed)."""
    rows = [line.split() for line in lines if line.split()[:1] == [name]]
    return next((row[1:4] for row in rows if "/" in row[1] and len(row) == 5), [])


def hpa_replicas(lines: list[str], name: str) -> str:
    """The REPLICAS column (the HPA's current replicas) of HPA ``name``."""
    rows = [line.split() for line in lines if line.split()[:2] == [name, f"Deployment/{name}"]]
    return rows[0][-2] if rows else "?"


def test_a_second_sandbox_runs_beside_the_first_and_down_leaves_nothing(
    sandbox: Running, tmp_path: Path
) -> None:
    other = start(tmp_path / "sandbox-b")
    try:
        family = other.processes()
        with httpx.Client(timeout=10, trust_env=False) as http:
            first = http.get(f"{sandbox.url('product')}/products")
            second = http.get(f"{other.url('product')}/products")
    finally:
        down = stop_and_reap(other)

    assert (first.status_code, second.status_code) == (200, 200)
    assert other.state.pod_network != sandbox.state.pod_network
    assert set(other.state.services.values()).isdisjoint(sandbox.state.services.values())
    assert down.returncode == 0, down.stderr
    assert f"stopped (pid {other.state.pid})" in down.stdout
    assert [p.pid for p in family if p.is_running()] == []
    assert read_state(other.state_dir) is None
    again = sandbox_cli(["down", "--state-dir", str(other.state_dir)])
    assert (again.returncode, again.stdout.strip()) == (0, 'sandbox "default" is not running')


def test_an_invalid_manifest_stops_up_with_file_document_and_field(tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  template: {spec: {containers: [{name: web, image: shop:1}]}}\n"
    )

    done = sandbox_cli(["up", "--state-dir", str(tmp_path / "state"), "--manifests", str(manifest)])

    assert done.returncode == 2
    assert f'Error: {manifest}, document 1 (Deployment "web"):' in done.stderr
    assert "spec.selector: Required value" in done.stderr
    assert not (tmp_path / "state").exists()


# -- Prometheus ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus(sandbox: Running) -> Iterator[httpx.Client]:
    """The sandbox's Prometheus API, after some requests went through the proxy."""
    if sandbox.state.prometheus_url is None:
        pytest.skip(missing_message())
    with httpx.Client(timeout=10, trust_env=False) as http:
        for _ in range(5):
            http.get(f"{sandbox.url('product')}/products")
        with httpx.Client(
            base_url=sandbox.state.prometheus_url, timeout=10, trust_env=False
        ) as api:
            yield api


def query(api: httpx.Client, promql: str, timeout_s: float = 30.0) -> list[dict[str, object]]:
    """The instant vector of ``promql`` once it is not empty (scrapes run every second,
    pod targets appear at the next http_sd refresh); [] after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = api.get("/api/v1/query", params={"query": promql}).json()
        assert answer["status"] == "success", answer
        if answer["data"]["result"] or time.monotonic() > deadline:
            return list(answer["data"]["result"])
        time.sleep(0.5)


def test_prometheus_scrapes_the_shop_pods_found_through_http_sd(prometheus: httpx.Client) -> None:
    found = query(prometheus, 'up{job="kubernetes-pods", app="product"} == 1')
    order = query(prometheus, 'up{job="kubernetes-pods", app="order"} == 1')

    labels = [result["metric"] for result in found]
    assert len(labels) == 2
    assert {label["namespace"] for label in labels} == {"default"}  # type: ignore[index]
    assert all(label["pod"].startswith("product-") for label in labels)  # type: ignore[index]
    assert {label["container"] for label in labels} == {"product"}  # type: ignore[index]
    assert order != []


def test_prometheus_sees_the_proxys_istio_metrics(prometheus: httpx.Client) -> None:
    served = 'reporter="source", destination_service_name="product", response_code="200"'

    found = query(
        prometheus, f"sum by (destination_workload) (istio_requests_total{{{served}}}) >= 5"
    )

    assert [r["metric"] for r in found] == [{"destination_workload": "product"}]


def test_prometheus_sees_kube_state_metrics_and_cadvisor(prometheus: httpx.Client) -> None:
    available = query(prometheus, 'kube_deployment_status_replicas_available{deployment="order"}')
    cpu = query(prometheus, 'container_cpu_usage_seconds_total{pod=~"order-.*"}')

    assert float(available[0]["value"][1]) >= 1  # type: ignore[index]
    assert cpu[0]["metric"]["container"] == "order"  # type: ignore[index]
    assert float(cpu[0]["value"][1]) > 0  # type: ignore[index]
