"""Soak: a long `slagate run` at the highest rate this machine sustains; memory and disk.

`slagate run` drives a minimal FastHttpUser locustfile (GET / on nginx, 1% of requests to a
location answering 503 with a long body, so the failures table grows too) for ``--minutes``
(default 30) with no wait time. Every ``--every`` seconds the RSS of the controller (the
`slagate run` process) and of the load child is sampled with psutil, together with the run
folder's size. At the end the script prints:

- requests served (the run's requests table) and the mean rate;
- each process's RSS growth from the end of the warm-up (the first 10% of the run, at least
  60 s) to the end, and that growth per million requests (goal: < 50 MB);
- the run folder's size and its growth per hour;
- the run's exit code (the SLAs are generous: a soak that fails them says so).

The samples go to ``soak-samples.csv`` and a plot (``soak.html``) in ``--out`` (default: a
new folder under /tmp), with the run folder.

    .venv/bin/python benchmarks/soak.py [--minutes 30] [--users 50] [--every 10]

Needs nginx (apt-get install -y nginx-light). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import psutil
from nginx_target import NGINX, nginx_argv, pinned

from slagate.report.rendering import plotly_bundle
from slagate.shop.launching import free_port
from slagate.timeline import read_table

TARGET_MB_PER_MILLION = 50.0
LOCUSTFILE = """
import random

from locust import FastHttpUser, task


class Hit(FastHttpUser):
    @task
    def index(self):
        if random.random() < 0.01:
            self.client.get("/fail", name="GET /fail")
        else:
            self.client.get("/", name="GET /")
"""
SCENARIO = """
name: soak
description: Benchmark soak, {minutes} minutes of GET / at full speed (benchmarks/soak.py).
target:
  host: {url}
load:
  locustfile: {locustfile}
  shape: steps
  spawn_rate: {users}
  stages:
    - {{users: {users}, duration: {minutes}m}}
drain: 2s
slas:
  - id: availability
    kind: availability
    min_percent: 95
    window: load
  - id: p99-latency
    kind: latency
    percentile: 99
    max_ms: 2000
"""


class Sample(NamedTuple):
    t_s: float  # since the run started
    wall_s: float  # epoch seconds, to find the requests made between two samples
    controller_rss_mb: float
    child_rss_mb: float
    folder_mb: float


@contextmanager
def nginx(workdir: Path) -> Iterator[str]:
    """nginx on a free loopback port, answering 200 on / and 503 on /fail; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(nginx_argv(workdir, port), preexec_fn=pinned(1))
    try:
        time.sleep(0.5)
        if proc.poll() is not None:
            raise SystemExit(f"nginx did not start (exit {proc.returncode})")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def rss_mb(process: psutil.Process | None) -> float:
    try:
        return process.memory_info().rss / 2**20 if process else 0.0
    except psutil.Error:
        return 0.0


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def load_child(controller: psutil.Process) -> psutil.Process | None:
    """The load child: the controller's Python child running ``slagate.load``."""
    try:
        for child in controller.children():
            if "slagate.load" in " ".join(child.cmdline()):
                return child
    except psutil.Error:
        pass
    return None


def soak(out: Path, url: str, args: argparse.Namespace) -> tuple[int, list[Sample], Path]:
    """Run the scenario, sampling as it goes; (exit code, samples, run folder)."""
    locustfile = out / "soak_locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    scenario = out / "soak.yaml"
    scenario.write_text(
        SCENARIO.format(url=url, locustfile=locustfile, users=args.users, minutes=args.minutes)
    )
    run_dir = out / "run"
    slagate = Path(sys.executable).with_name("slagate")
    argv = [str(slagate), "run", str(scenario), "--run-dir", str(run_dir)]
    log = (out / "slagate-run.log").open("w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pinned(0))
    controller, child, samples = psutil.Process(proc.pid), None, []
    start = time.monotonic()
    while proc.poll() is None:
        time.sleep(args.every)
        child = child if child and child.is_running() else load_child(controller)
        samples.append(
            Sample(
                time.monotonic() - start,
                time.time(),
                rss_mb(controller),
                rss_mb(child),
                folder_mb(run_dir) if run_dir.exists() else 0.0,
            )
        )
        print(
            f"{samples[-1].t_s:7.0f} s  controller {samples[-1].controller_rss_mb:6.1f} MB  "
            f"load child {samples[-1].child_rss_mb:6.1f} MB  folder "
            f"{samples[-1].folder_mb:7.1f} MB",
            flush=True,
        )
    return proc.returncode, samples, run_dir


def write_samples(out: Path, samples: list[Sample]) -> None:
    with (out / "soak-samples.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(Sample._fields)
        writer.writerows(samples)
    traces = [
        {"x": [s.t_s for s in samples], "y": [getattr(s, f) for s in samples], "name": f}
        for f in Sample._fields[2:]
    ]
    layout = {"title": "slagate soak: RSS and run folder size", "xaxis": {"title": "t (s)"},
              "yaxis": {"title": "MB"}}  # fmt: skip
    (out / "soak.html").write_text(
        f"<!doctype html><meta charset=utf-8><script>{plotly_bundle()}</script>"
        f"<div id=plot></div><script>Plotly.newPlot('plot', {json.dumps(traces)}, "
        f"{json.dumps(layout)});</script>"
    )


def summarize(code: int, samples: list[Sample], run_dir: Path, minutes: float) -> bool:
    """Print the figures; True when both processes grew less than the goal per million."""
    requests = read_table(run_dir, "requests")
    total = int(requests["requests"].sum())
    duration_s = minutes * 60
    print(
        f"\nexit code {code}; {total:,} requests in {minutes:g} min ({total / duration_s:,.0f} rps)"
    )
    running = [s for s in samples if s.child_rss_mb > 0]
    warm_s = min(max(60.0, duration_s * 0.1), running[-1].t_s / 2)
    warm, last = next(s for s in running if s.t_s >= warm_s), running[-1]
    between = requests["t_s"].between(warm.wall_s, last.wall_s)
    millions = int(requests.loc[between, "requests"].sum()) / 1e6
    print(f"after the warm-up ({warm.t_s:.0f} s to {last.t_s:.0f} s): {millions:.2f} M requests")
    ok = True
    for name in ("controller_rss_mb", "child_rss_mb"):
        growth = getattr(last, name) - getattr(warm, name)
        per_million = growth / millions if millions else float("nan")
        ok = ok and per_million < TARGET_MB_PER_MILLION
        print(
            f"{name[:-7]:>10}: RSS {getattr(warm, name):.1f} -> {getattr(last, name):.1f} MB: "
            f"{growth:+.1f} MB, {per_million:+.2f} MB per million requests "
            f"(goal < {TARGET_MB_PER_MILLION:g})"
        )
    data_per_hour = (last.folder_mb - warm.folder_mb) * 3600 / (last.t_s - warm.t_s)
    report_mb = (run_dir / "report.html").stat().st_size / 2**20
    final_data_mb = folder_mb(run_dir) - report_mb
    print(
        f"run folder: its flushed parts grew {data_per_hour:.1f} MB per hour of load; after the "
        f"run's compaction the data are {final_data_mb:.1f} MB "
        f"({final_data_mb * 60 / minutes:.1f} MB per hour), plus report.html {report_mb:.1f} MB"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not NGINX.exists():
        print(f"{NGINX} not found: apt-get install -y nginx-light", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="slagate-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"soak: {args.minutes:g} min, {args.users} users; output in {out}", flush=True)
    with nginx(out) as url:
        code, samples, run_dir = soak(out, url, args)
    write_samples(out, samples)
    return 0 if summarize(code, samples, run_dir, args.minutes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
