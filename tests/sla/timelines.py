"""In-memory timelines for the SLA tests: rows relative to T0 (load start), schema dtypes.

T0 is 1,700,000,000 s since the epoch: 22:13:20 UTC. Kubernetes rows name the Deployment,
HPA and Service ``order``; pods are ``order-<hash>-<id>`` owned by ReplicaSet ``order-<hash>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from slagate.scenario import Scenario
from slagate.sla.verdict import Window
from slagate.timeline import SCHEMAS, RunInfo, Table, Timeline

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
    replicas: Iterable[tuple[Any, ...]] = (),
    pods: Iterable[tuple[Any, ...]] = (),
    endpoints: Iterable[tuple[Any, ...]] = (),
    acks: Iterable[tuple[Any, ...]] = (),
    integrity: Iterable[tuple[Any, ...]] = (),
    metrics: Iterable[tuple[Any, ...]] = (),
    info: Mapping[str, Any] | None = None,
) -> Timeline:
    rows = {
        "requests": requests,
        "latency": latency,
        "failures": failures,
        "events": events,
        "replicas": replicas,
        "pods": pods,
        "endpoints": endpoints,
        "acks": acks,
        "integrity": integrity,
        "metrics": metrics,
    }
    tables = {Table(name): frame(name, table_rows) for name, table_rows in rows.items()}
    return Timeline(run_dir=Path("/nonexistent"), info=run_info(info or {}), tables=tables)


def run_info(info: Mapping[str, Any]) -> RunInfo:
    """run.json for a test timeline: the run starts 1 s before T0 unless ``info`` says."""
    return RunInfo(run_id="test", **{"started_ms": T0 - 1000, **info})


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


def sample(second: float, value: float, query: str = "q", series: str = "{}") -> tuple[Any, ...]:
    """A ``metrics`` row ``second`` seconds after T0."""
    return (T0 + round(second * 1000), query, series, value)


# --- Kubernetes ------------------------------------------------------------------------------


def kev(offset_ms: int, reason: str, obj: str, message: str = "") -> tuple[Any, ...]:
    """A Kubernetes Event: ``obj`` is ``Kind/name``, e.g. ``HorizontalPodAutoscaler/order``."""
    return (T0 + offset_ms, "kubernetes", reason, obj, message)


def rollout_events(
    start_s: float,
    complete_s: float | None,
    settled_s: float | None,
    end_s: float | None,
    outcome: str = "ok",
    name: str = "rollout_restart deployment/order",
) -> list[tuple[Any, ...]]:
    """The harness events of one rollout action, seconds after T0 (``None``: not written)."""
    phases = [
        ("action_start", start_s, ""),
        ("rollout_complete", complete_s, ""),
        ("rollout_settled", settled_s, ""),
        ("action_end", end_s, outcome),
    ]
    return [ev(round(t * 1000), kind, name, msg) for kind, t, msg in phases if t is not None]


def deploy(
    offset_ms: int, desired: int, ready: int, current: int | None = None, name: str = "order"
) -> tuple[Any, ...]:
    """A Deployment row of the replicas table (``current`` defaults to ``desired``)."""
    current = desired if current is None else current
    return (T0 + offset_ms, "Deployment", name, desired, current, ready, ready, None,
            None, None, None, None, None, None, False, None)  # fmt: skip


def hpa(
    offset_ms: int,
    desired: int,
    metric: float | None,
    target: float = 50.0,
    current: int | None = None,
    min_replicas: int = 1,
    max_replicas: int = 10,
    name: str = "order",
) -> tuple[Any, ...]:
    """An HPA row of the replicas table (``current`` defaults to ``desired``)."""
    current = desired if current is None else current
    return (T0 + offset_ms, "HorizontalPodAutoscaler", name, desired, current, None, None,
            None, min_replicas, max_replicas, metric, target, None, None, False,
            "cpu")  # fmt: skip


def pod(
    offset_ms: int,
    name: str,
    transition: str,
    ready: bool = False,
    probe: bool | None = None,
    prestop_s: float | None = None,
) -> tuple[Any, ...]:
    """A pods row; the owner is the name without its last part (``order-6c-a`` -> ``order-6c``).
    The spec facts ``probe`` (readiness_probe) and ``prestop_s`` default to unknown (null)."""
    owner = name.rsplit("-", 1)[0]
    deleting = transition in ("deleting", "deleted")
    return (T0 + offset_ms, name, transition, "Running", ready, deleting, "10.0.0.1", owner,
            owner.rsplit("-", 1)[1], 0, probe, prestop_s, None, None)  # fmt: skip


def eps(
    offset_ms: int,
    ready: Iterable[str],
    terminating: Iterable[str] = (),
    service: str = "order",
) -> tuple[Any, ...]:
    """An endpoints row: the ready and the terminating pods of ``service``."""
    ready, terminating = sorted(ready), sorted(terminating)
    return (T0 + offset_ms, service, len(ready), len(ready), len(terminating),
            ",".join(ready), ",".join(terminating))  # fmt: skip


def ack(offset_ms: int, key: str, kind: str = "order") -> tuple[Any, ...]:
    return (T0 + offset_ms, kind, key, "w1")


def check(
    offset_ms: int, key: str, ok: bool | None, status: int | None = 200, kind: str = "order"
) -> tuple[Any, ...]:
    """An integrity row: the read-back of ``key`` after the run."""
    return (T0 + offset_ms, kind, key, status, ok)
