"""In-memory timelines for the SLA tests: rows relative to T0 (load start), schema dtypes.

T0 is 1,700,000,000 s since the epoch: 22:13:20 UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from slagate.scenario import Scenario
from slagate.sla.verdict import Window
from slagate.timeline import SCHEMAS, Timeline

T0_S = 1_700_000_000
T0 = T0_S * 1000


def frame(table: str, rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """A table as ``load_timeline`` returns it (pyarrow schema, then pandas)."""
    records = [dict(zip(SCHEMAS[table].names, r, strict=True)) for r in rows]
    result: pd.DataFrame = pa.Table.from_pylist(records, schema=SCHEMAS[table]).to_pandas()
    return result


def timeline(
    *,
    requests: Iterable[tuple[Any, ...]] = (),
    latency: Iterable[tuple[Any, ...]] = (),
    failures: Iterable[tuple[Any, ...]] = (),
    events: Iterable[tuple[Any, ...]] = (),
    info: Mapping[str, Any] | None = None,
) -> Timeline:
    tables = {
        "requests": frame("requests", requests),
        "latency": frame("latency", latency),
        "failures": frame("failures", failures),
        "events": frame("events", events),
    }
    return Timeline(run_dir=Path("/nonexistent"), info=dict(info or {}), tables=tables)


def req(
    second: int, requests: int, failures: int = 0, endpoint: str = "GET /orders", worker: str = "w1"
) -> tuple[Any, ...]:
    """A requests row ``second`` seconds after T0 (percentile columns are not judged)."""
    method, name = endpoint.split(" ", 1)
    return (T0_S + second, method, name, requests, failures, 0.0, 0.0, 0.0, 0.0, 0.0, worker)


def hist(
    second: int, bucket_ms: int, count: int, endpoint: str = "GET /orders", worker: str = "w1"
) -> tuple[Any, ...]:
    method, name = endpoint.split(" ", 1)
    return (T0_S + second, method, name, bucket_ms, count, worker)


def fail(
    offset_ms: int, endpoint: str = "GET /orders", status: int | None = 0, error: str = "boom"
) -> tuple[Any, ...]:
    method, name = endpoint.split(" ", 1)
    return (T0 + offset_ms, method, name, status, error, "w1")


def ev(offset_ms: int, kind: str, name: str = "", message: str = "") -> tuple[Any, ...]:
    return (T0 + offset_ms, "harness", kind, name, message)


def load_events(stop_s: float = 30) -> list[tuple[Any, ...]]:
    """A load from T0 to ``stop_s`` seconds later."""
    return [ev(0, "load_start"), ev(round(stop_s * 1000), "load_stop", message="finished")]


def window(start_s: float = 0, end_s: float = 30, name: str = "load") -> Window:
    return Window(name, T0 + round(start_s * 1000), T0 + round(end_s * 1000), origin_ms=T0)


def scenario(slas: list[dict[str, Any]], windows: Mapping[str, Any] | None = None) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "t",
            "load": {"shape": "constant", "users": 10, "duration": 30},
            "windows": dict(windows or {}),
            "slas": slas,
        }
    )
