"""Recorder overhead: Locust's throughput with and without ``import slagate.locust_plugin``.

The same minimal FastHttpUser locustfile (GET /, no wait) runs headless against nginx on a
free loopback port, once plain and once with the plugin (recording a run folder), in
alternating pairs of equal length; each Locust is pinned to one core and nginx to another
when there are two. Prints each pair's requests per second and the median ratio.

    .venv/bin/python benchmarks/recorder_overhead.py [--duration 10] [--pairs 3] [--users 50]

Target: median(plugin rps / plain rps) >= 0.95. Needs nginx (apt-get install nginx-light).
Requests per CPU second of the Locust process are printed too: on a shared machine they
vary far less than requests per wall second. ``--baseline-freeze`` gives the plain runs
the plugin's ``gc.freeze()`` as well, to isolate the recorder's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from nginx_target import NGINX, nginx_argv, pinned

from slagate.shop.launching import free_port

TARGET_RATIO = 0.95
LOCUSTFILE = """{plugin}
import json
import os
import time

from locust import FastHttpUser, events, task

CPU = {{}}


class Hit(FastHttpUser):
    @task
    def index(self):
        self.client.get("/")


@events.test_start.add_listener
def started(**kw):
    CPU["start"] = time.process_time()


@events.test_stop.add_listener
def stopped(environment, **kw):
    cpu = time.process_time() - CPU["start"]
    with open(os.environ["BENCH_CPU_FILE"], "w") as f:
        json.dump({{"cpu_s": cpu, "requests": environment.runner.stats.total.num_requests}}, f)
"""


PLUGIN = "import slagate.locust_plugin  # noqa: F401\n"
# The plugin freezes startup objects out of the GC (slagate.load.environment); this baseline does
# the same without recording, to isolate the recorder's own cost.
FROZEN = """
import gc
from locust import events
events.init.add_listener(lambda **kw: (gc.collect(), gc.freeze()))
"""


@contextmanager
def nginx(workdir: Path) -> Iterator[str]:
    """nginx answering 200 on a free loopback port; yields its URL."""
    port = free_port()
    argv = nginx_argv(workdir, port)
    proc = subprocess.Popen(argv, preexec_fn=pinned(1))
    try:
        wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nginx did not start on port {port} (exit {proc.poll()})")


class Measurement(NamedTuple):
    rps: float  # requests per wall second, from Locust's own stats
    per_cpu_s: float  # requests per CPU second of the Locust process during the test


def measure(workdir: Path, url: str, with_plugin: bool, args: argparse.Namespace) -> Measurement:
    """One headless Locust run of ``args.duration`` seconds."""
    kind = "plugin" if with_plugin else "plain"
    locustfile = workdir / f"{kind}.py"
    plugin = PLUGIN if with_plugin else (FROZEN if args.baseline_freeze else "")
    locustfile.write_text(LOCUSTFILE.format(plugin=plugin))
    stats, cpu_file = workdir / f"{kind}-stats", workdir / f"{kind}-cpu.json"
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", url]
    argv += ["-u", str(args.users), "-r", str(args.users), "-t", f"{args.duration}s"]
    argv += ["--json-file", str(stats), "--only-summary", "--loglevel", "ERROR"]
    argv += ["--run-dir", str(workdir / f"run-{time.time_ns()}")] if with_plugin else []
    env = {**os.environ, "BENCH_CPU_FILE": str(cpu_file)}
    subprocess.run(
        argv, cwd=workdir, env=env, check=True, preexec_fn=pinned(0), timeout=args.duration + 60
    )
    cpu = json.loads(cpu_file.read_text())
    rps = rps_of(json.loads(stats.with_suffix(".json").read_text()))
    return Measurement(rps, cpu["requests"] / cpu["cpu_s"])


def rps_of(entries: list[dict[str, float]]) -> float:
    requests = sum(e["num_requests"] for e in entries)
    start = min(e["start_time"] for e in entries)
    end = max(e["last_request_timestamp"] for e in entries)
    return requests / (end - start)


def run_pairs(workdir: Path, url: str, args: argparse.Namespace) -> list[tuple[float, float]]:
    """(rps ratio, per-CPU-second ratio) of each pair, plugin over plain."""
    ratios = []
    for pair in range(1, args.pairs + 1):
        order = (False, True) if pair % 2 else (True, False)  # ABBA: cancels drift
        runs = {plugin: measure(workdir, url, plugin, args) for plugin in order}
        plain, plugin = runs[False], runs[True]
        ratios.append((plugin.rps / plain.rps, plugin.per_cpu_s / plain.per_cpu_s))
        print(
            f"pair {pair}: plain {plain.rps:6.0f} rps ({plain.per_cpu_s:6.0f}/cpu-s)  "
            f"plugin {plugin.rps:6.0f} rps ({plugin.per_cpu_s:6.0f}/cpu-s)  "
            f"ratio {ratios[-1][0]:.3f} (per cpu-s {ratios[-1][1]:.3f})",
            flush=True,
        )
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per Locust run")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--baseline-freeze",
        action="store_true",
        help="freeze the GC in the plain runs too (isolates the recorder's cost)",
    )
    args = parser.parse_args()
    if not NGINX.exists():
        print(f"{NGINX} not found: apt-get install -y nginx-light", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="slagate-overhead-") as tmp, nginx(Path(tmp)) as url:
        print(f"nginx at {url}; {args.pairs} pairs of {args.duration} s, {args.users} users")
        ratios = run_pairs(Path(tmp), url, args)
    median = statistics.median(r for r, _ in ratios)
    per_cpu = statistics.median(c for _, c in ratios)
    verdict = "PASS" if median >= TARGET_RATIO else "FAIL"
    print(f"median ratio {median:.3f} (target >= {TARGET_RATIO}): {verdict}")
    print(f"median ratio per CPU second {per_cpu:.3f} (less sensitive to a noisy machine)")
    return 0 if median >= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
