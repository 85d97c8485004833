"""Distributed load on this machine: ``slagate run --workers 2`` against one load process.

Two figures, each from alternating pairs of equal runs against nginx on a free loopback
port (a minimal FastHttpUser locustfile: GET /, no wait):

1. requests per second of ``slagate run SCENARIO --workers 2`` over ``slagate run
   SCENARIO`` (one process), counted from each run folder's ``requests`` table over its
   load window. Locust's own figure for FastHttpUser is about 1.4x on two cores: the
   master, two workers and nginx share them.
2. the recorder's overhead on workers: plain ``locust --processes 2`` (a master and two
   workers) with ``import slagate.locust_plugin`` over without it, from Locust's own
   statistics. Target >= 0.95, as for one process (recorder_overhead.py).

    .venv/bin/python benchmarks/workers_throughput.py [--duration 10] [--pairs 2] [--users 50]

Needs nginx (apt-get install nginx-light). Nothing is pinned: the point is what the
machine's cores give together.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from nginx_target import NGINX
from recorder_overhead import nginx, rps_of

TARGET_OVERHEAD_RATIO = 0.95
LOCUSTFILE = """{plugin}
from locust import FastHttpUser, task


class Hit(FastHttpUser):
    @task
    def index(self):
        self.client.get("/")
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


def locust_rps(workdir: Path, url: str, with_plugin: bool, args: argparse.Namespace) -> float:
    """Requests per second of plain ``locust --processes 2`` (Locust's own statistics)."""
    kind = "plugin" if with_plugin else "plain"
    locustfile = workdir / f"{kind}.py"
    locustfile.write_text(LOCUSTFILE.format(plugin=PLUGIN if with_plugin else ""))
    stats = workdir / f"{kind}-stats"
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", url]
    argv += ["--processes", "2", "-u", str(args.users), "-r", str(args.users)]
    argv += ["-t", f"{args.duration}s", "--json-file", str(stats), "--only-summary"]
    argv += ["--loglevel", "ERROR"]
    argv += ["--run-dir", str(workdir / f"run-{time.time_ns()}")] if with_plugin else []
    subprocess.run(argv, cwd=workdir, check=True, capture_output=True, timeout=args.duration + 60)
    return rps_of(json.loads(stats.with_suffix(".json").read_text()))


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
        overhead = ratios(
            args.pairs,
            lambda rec: locust_rps(work, url, rec, args),
            "--processes 2 plain vs plugin",
        )
    scale, cost = statistics.median(scaling), statistics.median(overhead)
    print(f"--workers 2 over one process: median ratio {scale:.2f} (Locust's own: ~1.4)")
    verdict = "PASS" if cost >= TARGET_OVERHEAD_RATIO else "FAIL"
    print(f"recorder on workers: median ratio {cost:.3f} (>= {TARGET_OVERHEAD_RATIO}): {verdict}")
    return 0 if cost >= TARGET_OVERHEAD_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
