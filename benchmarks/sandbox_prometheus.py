"""What the sandbox's Prometheus costs: shop throughput and idle pod CPU with 1 s scrapes.

Starts a ``Sandbox`` with the overlay (``deploy/shop/sandbox``: Prometheus scraping the
pods, the proxy, kube-state-metrics and cAdvisor every second) and, in the same run,
compares the two states Prometheus can be in: scraping, and stopped with SIGSTOP (no
scrape, no TSDB work; SIGCONT resumes it), alternating (ABBA) so that drift cancels out:

1. idle: the order pod's CPU as the HPA reads it (the kubelet's 2 s samples, millicores
   of its 100m request, so also percent) over ``--idle`` seconds in each state;
2. load: headless Locust (FastHttpUser, no wait, ``--users``) on the product Service
   through the proxy (``GET /products``; product has no HPA, so the replicas stay two)
   for ``--duration`` seconds per run, ``--rounds`` rounds; requests per second per run,
   the median of each state, their ratio, and Prometheus' own CPU while scraping.

    .venv/bin/python benchmarks/sandbox_prometheus.py [--duration 15] [--rounds 2] [--users 20]

Target: throughput with Prometheus >= 0.9 x without (two shared cores). Exits 1 on FAIL,
2 when no Prometheus is installed.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
from kubernetes import client
from proxy_throughput import LoadRun, locust_run

from slagate.kube.connecting import KubeOptions, connect
from slagate.kube.streaming import StopSignal
from slagate.kube.waiting import RolloutWaiter
from slagate.sandbox import Sandbox

OVERLAY = Path(__file__).resolve().parents[1] / "deploy" / "shop" / "sandbox"
TARGET_RATIO = 0.9
READY_TIMEOUT_S = 90.0
SETTLE_S = 2.0
"""After switching Prometheus on or off: let a scrape or two pass before measuring."""
STATES = ("with", "without")


@contextmanager
def paused(pid: int) -> Iterator[None]:
    """Prometheus stopped (SIGSTOP) for the block, resumed (SIGCONT) after it."""
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(SETTLE_S)
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
        time.sleep(SETTLE_S)


@contextmanager
def state(name: str, pid: int) -> Iterator[None]:
    if name == "without":
        with paused(pid):
            yield
    else:
        yield


def cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def idle_samples(sandbox: Sandbox, pod: str, seconds: float) -> list[int]:
    """The order pod's CPU samples (millicores) taken during ``seconds``."""
    samples: dict[float, int] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sample = sandbox.kubelet.pod_cpu("default", pod)
        if sample is not None:
            samples[sample.timestamp_s] = sample.millicores
        time.sleep(0.5)
    return list(samples.values())[1:]  # the first may have begun before the switch


def order_pod(core: client.CoreV1Api) -> str:
    pods = core.list_namespaced_pod("default", label_selector="app=order").items
    return str(pods[0].metadata.name)


def measure_idle(sandbox: Sandbox, pod: str, pid: int, seconds: float) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {name: [] for name in STATES}
    for name in (*STATES, *STATES[::-1]):
        with state(name, pid):
            found[name] += idle_samples(sandbox, pod, seconds / 2)
    return found


def measure_load(
    workdir: Path, port: int, pid: int, args: argparse.Namespace
) -> tuple[dict[str, list[LoadRun]], float]:
    """Runs per state, and Prometheus' CPU (cores) while it scraped under load."""
    runs: dict[str, list[LoadRun]] = {name: [] for name in STATES}
    busy_s = scraping_s = 0.0
    for index in range(args.rounds):
        for name in STATES if index % 2 == 0 else STATES[::-1]:
            with state(name, pid):
                before, started = cpu_s(pid), time.monotonic()
                run = locust_run(workdir, port, "/products", name, args)
                if name == "with":
                    busy_s += cpu_s(pid) - before
                    scraping_s += time.monotonic() - started
            runs[name].append(run)
            print(f"round {index + 1} {name:7s} Prometheus: {run.rps:7.0f} rps", flush=True)
    return runs, busy_s / scraping_s if scraping_s else float("nan")


def report(
    idle: dict[str, list[int]], runs: dict[str, list[LoadRun]], prometheus_cores: float
) -> int:
    for name in STATES:
        samples = idle[name] or [0]
        print(
            f"idle order pod {name:7s} Prometheus: mean {statistics.mean(samples):.1f}m, "
            f"max {max(samples)}m of 100m ({len(idle[name])} samples of 2 s)"
        )
    rps = {name: statistics.median(r.rps for r in runs[name]) for name in STATES}
    ratio = rps["with"] / rps["without"]
    print(
        f"throughput: {rps['with']:.0f} rps with Prometheus, {rps['without']:.0f} without: "
        f"ratio {ratio:.3f} (target >= {TARGET_RATIO}); Prometheus used "
        f"{prometheus_cores:.1%} of a core while scraping under load: "
        f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}"
    )
    return 0 if ratio >= TARGET_RATIO else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per Locust run")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (one run of each state)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--idle", type=float, default=40.0, help="idle seconds per state")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="slagate-prometheus-") as tmp,
        Sandbox.start(Path(tmp) / "sandbox", [OVERLAY]) as sandbox,
    ):
        if sandbox.prometheus is None or sandbox.prometheus.pid is None:
            print("no Prometheus: apt-get install -y prometheus", file=sys.stderr)
            return 2
        pid = sandbox.prometheus.pid
        connection = connect(KubeOptions(kubeconfig=sandbox.kubeconfig))
        try:
            RolloutWaiter(
                connection.api_client, connection.namespace, StopSignal()
            ).wait_all_complete(time.monotonic() + READY_TIMEOUT_S)
            pod = order_pod(client.CoreV1Api(connection.api_client))
        finally:
            connection.close()
        url = sandbox.service_url("product")
        time.sleep(sandbox.routing_delay_s + 1.0)
        httpx.get(f"{url}/products", trust_env=False).raise_for_status()
        print(
            f"sandbox up, Prometheus {sandbox.prometheus_url} scraping every "
            f"{sandbox.settings.scrape_interval_s:g} s; {os.cpu_count()} cpus"
        )
        idle = measure_idle(sandbox, pod, pid, args.idle)
        runs, cores = measure_load(Path(tmp), int(url.rsplit(":", 1)[1]), pid, args)
        return report(idle, runs, cores)


if __name__ == "__main__":
    raise SystemExit(main())
