"""Endpoint-name explosion: RSS and run-folder size with and without the endpoint bound.

A locustfile that forgets ``name=`` on ``GET /orders/<uuid>`` gives every order its own
request name. This fires synthetic ``request`` events (names drawn from ``--names``
distinct uuids, Locust's latency bucketing, a simulated ``--rate`` requests per second)
through a Locust ``Events`` hook into the recorder, flushing to Parquet every 2 simulated
seconds as a real run does, once per configuration, each in a fresh process:

- ``bounded``: the recorder as shipped (``load.max_endpoints`` 500);
- ``unbounded``: the same with no bound (what the recorder did before);
- ``locust-stats``: Locust's own ``RequestStats`` fed the same events, without slagate:
  the memory Locust itself spends on the names (it keeps one entry per name for the run;
  the bound cannot change that).

The names themselves (the pool events are drawn from) exist before the baseline is taken.
``unbounded`` keeps the recorder's set of seen names, which the recorder before the bound
did not have: it overstates the old recorder's memory by that set (about 100 bytes a name).

Prints, per configuration, the RSS growth over the load (MB), the run folder's size on
disk (MB) after the tables were compacted as ``finish_run`` does, the rows in
``requests`` and ``latency`` and the distinct names in them, and checks that the tables
count every request fired.

    .venv/bin/python benchmarks/endpoint_explosion.py [--requests 200000] [--names 10000]

Target: with the bound, RSS growth < 10 MB and the run folder < 2 MB for 10,000 names.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import locust  # noqa: F401  # first, as in every load process
import psutil
from locust.event import Events
from locust.stats import RequestStats

from slagate.load.environment import locust_latency
from slagate.load.recorder import Recorder
from slagate.load.session import RunSpec, Session
from slagate.timeline import Table, compact_run, read_table

CONFIGS = ("bounded", "unbounded", "locust-stats")
UNBOUNDED = 10**9
FLUSH_EVERY_S = 2
T0 = 1_800_000_000.0
TARGET_RSS_MB = 10.0
TARGET_FOLDER_MB = 2.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def names(count: int) -> list[str]:
    return [f"/orders/{uuid.UUID(int=i + 1)}" for i in range(count)]


def fire_all(
    events: Events, clock: Clock, args: argparse.Namespace, pool: list[str], flush: Any
) -> None:
    """Fire ``args.requests`` events; ``pool`` is built by the caller before its baseline."""
    next_flush = T0 + FLUSH_EVERY_S
    for i in range(args.requests):
        clock.now = T0 + i / args.rate
        events.request.fire(
            request_type="GET",
            name=pool[(i * 7919) % len(pool)],  # every name, spread over the run
            response_time=5.0 + i % 50,
            response_length=100,
            response=None,
            context={},
            exception=None,
            start_time=clock.now,
            url=None,
        )
        if clock.now >= next_flush:
            flush()
            next_flush += FLUSH_EVERY_S


def measure_recorder(args: argparse.Namespace, max_endpoints: int) -> dict[str, Any]:
    clock = Clock(T0)
    with tempfile.TemporaryDirectory(prefix="slagate-explosion-") as tmp:
        run_dir = Path(tmp) / "run"
        recorder = Recorder(
            worker="local", clock=clock, latency=locust_latency(), max_endpoints=max_endpoints
        )
        session = Session(RunSpec(run_dir=run_dir, host="http://127.0.0.1"), recorder, clock)
        session.begin()
        events = Events()
        events.request.add_listener(recorder.on_request)
        pool = names(args.names)
        gc.collect()
        before = rss_mb()
        peak = before

        def flush() -> None:
            nonlocal peak
            session.write(session.collect())
            peak = max(peak, rss_mb())

        fire_all(events, clock, args, pool, flush)
        session.write(session.collect(final=True))
        compact_run(run_dir)
        requests = read_table(run_dir, Table.REQUESTS)
        latency = read_table(run_dir, Table.LATENCY)
        if int(requests["requests"].sum()) != args.requests:
            raise SystemExit(f"requests lost: {requests['requests'].sum()} of {args.requests}")
        return {
            "rss_growth_mb": peak - before,
            "folder_mb": folder_mb(run_dir),
            "requests_rows": len(requests),
            "latency_rows": len(latency),
            "names": int(requests["name"].nunique()),
            "folded": recorder.requests_folded,
        }


def measure_locust_stats(args: argparse.Namespace) -> dict[str, Any]:
    stats = RequestStats()
    events = Events()

    def on_request(request_type: str, name: str, response_time: float, **kw: Any) -> None:
        stats.log_request(request_type, name, response_time, kw["response_length"])

    events.request.add_listener(on_request)
    pool = names(args.names)
    gc.collect()
    before = rss_mb()
    peak = before

    def sample() -> None:
        nonlocal peak
        peak = max(peak, rss_mb())

    fire_all(events, Clock(T0), args, pool, sample)
    return {"rss_growth_mb": peak - before, "names": len(stats.entries)}


def one(config: str, args: argparse.Namespace) -> dict[str, Any]:
    if config == "locust-stats":
        return measure_locust_stats(args)
    return measure_recorder(args, UNBOUNDED if config == "unbounded" else 500)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--names", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=2_000.0, help="simulated requests/s")
    parser.add_argument("--one", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args)))
        return 0
    print(
        f"{args.requests:,} requests over {args.names:,} names at {args.rate:,.0f}/s "
        f"({args.requests / args.rate:,.0f} simulated s)"
    )
    results = {}
    for config in CONFIGS:
        argv = [sys.executable, __file__, "--one", config, "--requests", str(args.requests)]
        argv += ["--names", str(args.names), "--rate", str(args.rate)]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        results[config] = result = json.loads(out.strip().splitlines()[-1])
        shown = ", ".join(
            f"{k} {v:,.2f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in result.items()
        )
        print(f"{config:>13}: {shown}")
    bounded = results["bounded"]
    ok = bounded["rss_growth_mb"] < TARGET_RSS_MB and bounded["folder_mb"] < TARGET_FOLDER_MB
    print(
        f"target (bounded): RSS growth < {TARGET_RSS_MB:g} MB and run folder < "
        f"{TARGET_FOLDER_MB:g} MB: {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
