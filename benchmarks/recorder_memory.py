"""Recorder memory: RSS growth while a million requests go through the Recorder.

Synthetic ``request`` events (10 endpoints, Locust's latency bucketing, 1% failures with
long error texts) are fired through a Locust ``Events`` hook at a simulated 4,000 requests
per second; every 2 simulated seconds the completed seconds are flushed to Parquet in a
temporary run folder, as in a real run. Prints the RSS growth (psutil) and the cost of one
request event, and checks the written tables add up to the requests fired.

    .venv/bin/python benchmarks/recorder_memory.py [--requests 1000000]

Target: RSS growth < 50 MB.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import locust  # noqa: F401  # first, as in every load process
import psutil
from locust.event import Events

from slagate.load.environment import locust_latency
from slagate.load.recorder import Recorder
from slagate.load.session import RunSpec, Session
from slagate.timeline import read_table

TARGET_MB = 50.0
RATE = 4000  # simulated requests per second
FLUSH_EVERY_S = 2
ENDPOINTS = [(m, f"/api/thing{i}/[id]") for i in range(5) for m in ("GET", "POST")]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def request_kwargs(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """A pool of request events to cycle through (latencies 1 ms .. ~3 s, 1% failures)."""
    rng = random.Random(seed)
    pool = []
    for _ in range(count):
        method, name = rng.choice(ENDPOINTS)
        failed = rng.random() < 0.01
        error = RuntimeError("upstream said no: " + "x" * rng.randrange(10, 600))
        pool.append(
            {
                "request_type": method,
                "name": name,
                "response_time": rng.lognormvariate(2.5, 1.2),
                "response_length": 120,
                "response": Response(503 if failed else 200),
                "context": {},
                "exception": error if failed else None,
                "url": "http://127.0.0.1" + name,
            }
        )
    return pool


def drive(
    session: Session, clock: Clock, events: Events, requests: int, start: int
) -> tuple[float, float]:
    """Fire ``requests`` events from request number ``start``.

    Returns the seconds spent firing and the peak RSS (MB) seen at the flushes.
    """
    pool = request_kwargs(10_000)
    firing, peak = 0.0, rss_mb()
    next_flush = clock.now + FLUSH_EVERY_S
    for i in range(start, start + requests):
        clock.now = 1_800_000_000.0 + i / RATE
        kwargs = pool[i % len(pool)]
        t0 = time.perf_counter()
        events.request.fire(start_time=clock.now, **kwargs)
        firing += time.perf_counter() - t0
        if clock.now >= next_flush:
            session.write(session.collect())
            next_flush += FLUSH_EVERY_S
            peak = max(peak, rss_mb())
    return firing, peak


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    args = parser.parse_args()
    clock = Clock(1_800_000_000.0)
    with tempfile.TemporaryDirectory(prefix="slagate-memory-") as tmp:
        run_dir = Path(tmp) / "run"
        recorder = Recorder(worker="local", clock=clock, latency=locust_latency())
        session = Session(RunSpec(run_dir=run_dir, host="http://127.0.0.1"), recorder, clock)
        session.begin()
        events = Events()
        events.request.add_listener(recorder.on_request)
        warmup = 40_000
        drive(session, clock, events, warmup, 0)
        gc.collect()
        before = rss_mb()
        firing, during = drive(session, clock, events, args.requests, warmup)
        session.write(session.collect(final=True))
        after = rss_mb()
        written = int(read_table(run_dir, "requests")["requests"].sum())
    growth = max(during, after) - before
    print(f"{args.requests:,} requests through the Recorder (+{warmup:,} warm-up)")
    print(f"request event with the recorder: {firing / args.requests * 1e6:.2f} us/request")
    print(f"RSS {before:.1f} MB -> peak {during:.1f} MB during the load -> {after:.1f} MB final")
    print(f"rows add up: {written:,} requests written, {args.requests + warmup:,} fired")
    verdict = "PASS" if growth < TARGET_MB and written == args.requests + warmup else "FAIL"
    print(f"RSS growth {growth:.1f} MB (target < {TARGET_MB:g} MB): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
