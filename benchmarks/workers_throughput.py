"""Distributed load on this machine: ``slagate run --workers 2`` against one load process.

Two figures, each from alternating pairs of equal runs against nginx on a free loopback
port (a minimal FastHttpUser locustfile: GET /, no wait):

1. requests per second of ``slagate run SCENARIO --workers 2`` over ``slagate run
   SCENARIO`` (one process), counted from each run folder's ``requests`` table over its
   load window. Locust's own figure for FastHttpUser is about 1.4x on two cores: the
   master, two workers and nginx share them.
2. the recorder's overhead on workers: plain ``locust --processes 2`` (a master and two
   workers) with ``import slagate.locust_plugin`` over without it: requests per wall
   second (Locust's statistics) and requests per CPU second of the two workers (their
   own counts and ``time.process_time``). Target >= 0.95 per CPU second, as for one
   process (recorder_overhead.py): on a machine shared with other work, wall-clock
   rates of equal runs swing by 2x or more, CPU-second rates far less.

    .venv/bin/python benchmarks/workers_throughput.py [--duration 10] [--pairs 2] [--users 50]

Needs nginx (apt-get install nginx-light). Nothing is pinned: the point is what the
machine's cores give together.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from nginx_target import NGINX
from recorder_overhead import nginx, rps_of

TARGET_OVERHEAD_RATIO = 0.95
LOCUSTFILE = """{plugin}
import json
import os
import time

from locust import FastHttpUser, events, task
from locust.runners import WorkerRunner

SEEN = {{"requests": 0}}


class Hit(FastHttpUser):
    @task
    def index(self):
        self.client.get("/")


@events.request.add_listener
def counted(**kw):
    SEEN["requests"] += 1


@events.test_start.add_listener
def started(**kw):
    SEEN["cpu"] = time.process_time()
    SEEN["requests"] = 0


@events.test_stop.add_listener
def stopped(environment, **kw):
    if isinstance(environment.runner, WorkerRunner) and "BENCH_CPU_DIR" in os.environ:
        cpu = time.process_time() - SEEN["cpu"]
        path = os.path.join(os.environ["BENCH_CPU_DIR"], f"{{os.getpid()}}.json")
        with open(path, "w") as f:
            json.dump({{"cpu_s": cpu, "requests": SEEN["requests"]}}, f)
"""
PLUGIN = "import slagate.locust_plugin  # noqa: F401"
SCENARIO = """name: bench
target: {{host: "{url}"}}
load:
  locustfile: hit.py
  shape: constant
  users: {users}
  spawn_rate: {users}
  duration: {duration}s
drain: 1s
"""


def slagate_rps(workdir: Path, workers: int, args: argparse.Namespace) -> float:
    """Requests per second of one ``slagate run`` over its load window (run folder)."""
    run_dir = workdir / f"run-{time.time_ns()}"
    argv = [sys.executable, "-m", "slagate", "run", "s.yaml", "--run-dir", str(run_dir)]
    argv += ["--workers", str(workers)] if workers else []
    subprocess.run(argv, cwd=workdir, check=True, capture_output=True, timeout=args.duration + 120)
    events = pd.read_parquet(run_dir / "events")
    start = events.loc[events["kind"] == "load_start", "t_ms"].min()
    stop = events.loc[events["kind"] == "load_stop", "t_ms"].max()
    requests = int(pd.read_parquet(run_dir / "requests")["requests"].sum())
    return requests * 1000.0 / float(stop - start)


class WorkerRun(NamedTuple):
    rps: float  # requests per wall second, Locust's own statistics
    per_cpu_s: float  # requests per CPU second of the two worker processes together


def locust_run(workdir: Path, url: str, with_plugin: bool, args: argparse.Namespace) -> WorkerRun:
    """Plain ``locust --processes 2``: a master and two forked workers."""
    kind = "plugin" if with_plugin else "plain"
    locustfile = workdir / f"{kind}.py"
    locustfile.write_text(LOCUSTFILE.format(plugin=PLUGIN if with_plugin else ""))
    stats, cpu_dir = workdir / f"{kind}-stats", workdir / f"{kind}-cpu-{time.time_ns()}"
    cpu_dir.mkdir()
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", url]
    argv += ["--processes", "2", "-u", str(args.users), "-r", str(args.users)]
    argv += ["-t", f"{args.duration}s", "--json-file", str(stats), "--only-summary"]
    argv += ["--loglevel", "ERROR"]
    argv += ["--run-dir", str(workdir / f"run-{time.time_ns()}")] if with_plugin else []
    env = {**os.environ, "BENCH_CPU_DIR": str(cpu_dir)}
    subprocess.run(
        argv, cwd=workdir, env=env, check=True, capture_output=True, timeout=args.duration + 60
    )
    workers = [json.loads(p.read_text()) for p in cpu_dir.glob("*.json")]
    per_cpu = sum(w["requests"] for w in workers) / sum(w["cpu_s"] for w in workers)
    return WorkerRun(rps_of(json.loads(stats.with_suffix(".json").read_text())), per_cpu)


def ratios(pairs: int, measure: Callable[[bool], float], label: str) -> list[float]:
    """``measure(True) / measure(False)`` per pair, alternating which runs first (ABBA)."""
    found = []
    for pair in range(1, pairs + 1):
        order = (False, True) if pair % 2 else (True, False)
        runs = {side: measure(side) for side in order}
        found.append(runs[True] / runs[False])
        print(
            f"{label} pair {pair}: {runs[False]:7.0f} rps vs {runs[True]:7.0f} rps, "
            f"ratio {found[-1]:.3f}",
            flush=True,
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    if not NGINX.exists():
        print(f"{NGINX} not found: apt-get install -y nginx-light", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="slagate-workers-") as tmp, nginx(Path(tmp)) as url:
        work = Path(tmp)
        (work / "hit.py").write_text(LOCUSTFILE.format(plugin=""))
        (work / "s.yaml").write_text(
            SCENARIO.format(url=url, users=args.users, duration=args.duration)
        )
        print(f"nginx at {url}; {args.pairs} pairs of {args.duration} s, {args.users} users")
        scaling = ratios(
            args.pairs, lambda two: slagate_rps(work, 2 if two else 0, args), "one vs --workers 2"
        )
        runs: dict[bool, list[WorkerRun]] = {False: [], True: []}

        def worker_rps(recording: bool) -> float:
            runs[recording].append(locust_run(work, url, recording, args))
            return runs[recording][-1].rps

        overhead = ratios(args.pairs, worker_rps, "--processes 2 plain vs plugin")
    per_cpu = [p.per_cpu_s / b.per_cpu_s for b, p in zip(runs[False], runs[True], strict=True)]
    for pair, (plain, plugin) in enumerate(zip(runs[False], runs[True], strict=True), start=1):
        print(
            f"--processes 2 pair {pair} per worker CPU second: plain {plain.per_cpu_s:6.0f}, "
            f"plugin {plugin.per_cpu_s:6.0f}, ratio {per_cpu[pair - 1]:.3f}"
        )
    scale, cost = statistics.median(scaling), statistics.median(per_cpu)
    print(f"--workers 2 over one process: median ratio {scale:.2f} (Locust's own: ~1.4)")
    wall = statistics.median(overhead)
    print(f"recorder on workers, requests per wall second: median ratio {wall:.3f}")
    verdict = "PASS" if cost >= TARGET_OVERHEAD_RATIO else "FAIL"
    print(
        f"recorder on workers, requests per worker CPU second: median ratio {cost:.3f} "
        f"(>= {TARGET_OVERHEAD_RATIO}; the figure a shared machine does not swing): {verdict}"
    )
    return 0 if cost >= TARGET_OVERHEAD_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
