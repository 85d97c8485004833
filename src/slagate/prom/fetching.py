"""A run's PromQL series into its ``metrics`` table, once the run has run.

Every planned query is sent as a range query over the run's window at the plan's step;
its samples become ``metrics`` rows filed under the query's id (labels rendered
``{a="b",...}``), so ``slagate check`` judges them again without Prometheus, and a
``metrics_fetched`` event says so. A query that cannot be fetched (Prometheus gone, a
refusal) becomes a ``metrics_failed`` event naming it and why: its SLA is then no-data with
that reason, and every other SLA is still judged. ``slagate check --prometheus-url``
fetches again: the newer outcome wins, repeated samples count once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from slagate.errors import PrometheusError
from slagate.prom.planning import QueryPlan
from slagate.prom.querying import MetricsSource
from slagate.timeline import (
    ERROR_TEXT_MAX,
    EventKind,
    EventRow,
    EventSource,
    MetricRow,
    Table,
    append_rows,
)

WRITER = "prometheus"


@dataclass(frozen=True)
class Fetched:
    samples: int
    failed: tuple[str, ...]
    """Ids of the queries that could not be fetched."""


def fetch_metrics(
    source: MetricsSource,
    plan: QueryPlan,
    run_dir: Path,
    start_ms: int,
    end_ms: int,
    clock: Callable[[], float] = time.time,
) -> Fetched:
    """Fetch every query of ``plan`` over ``[start_ms, end_ms]`` into ``run_dir``."""
    rows: list[MetricRow] = []
    outcomes: list[EventRow] = []
    for planned in plan.queries:
        try:
            found = source.range_query(planned.query, start_ms / 1000, end_ms / 1000, plan.step_s)
        except PrometheusError as e:
            outcomes.append(_event(EventKind.METRICS_FAILED, planned.id, str(e), clock))
            continue
        fetched = [_row(planned.id, s.labels, t, v) for s in found for t, v in s.samples]
        rows += fetched
        done = f"{len(found)} series, {len(fetched)} samples"
        outcomes.append(_event(EventKind.METRICS_FETCHED, planned.id, done, clock))
    writer = f"{WRITER}-{int(clock() * 1000)}"  # a re-fetch (slagate check) adds its own parts
    append_rows(run_dir, writer, Table.METRICS, rows)
    append_rows(run_dir, writer, Table.EVENTS, outcomes)
    failed = tuple(e.name for e in outcomes if e.kind == EventKind.METRICS_FAILED)
    return Fetched(len(rows), failed)


def _row(query_id: str, labels: Mapping[str, str], t_ms: int, value: float) -> MetricRow:
    return MetricRow(t_ms, query_id, render_labels(labels), value)


def render_labels(labels: Mapping[str, str]) -> str:
    """``{a="b",c="d"}``, names sorted, values escaped as in PromQL."""
    escaped = (f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + ",".join(escaped) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _event(kind: EventKind, query_id: str, text: str, clock: Callable[[], float]) -> EventRow:
    text = text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 3] + "..."
    return EventRow(int(clock() * 1000), EventSource.HARNESS, kind, query_id, text)
