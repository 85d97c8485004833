"""Two runs of one scenario side by side: what changed from a baseline run to a new one.

Pure: ``compare_runs`` reads the two timelines and summaries it is given; no clients, no
clock, no I/O (``read_comparison``/``write_comparison`` keep it as ``comparison.json`` in
the new run's folder, where ``slagate report`` finds it). Every value is measured by the
SLA evaluators themselves, over each run's own ``load`` window, so a compared p95 is the
p95 a latency SLA would judge: per endpoint (and all endpoints) p50, p95 and p99 latency,
error ratio and throughput; the longest rollout of each Deployment a run rolled out; and
per SLA of the new run's summary its measured value in both runs (scale-out time, rollout
duration, ...: whatever the SLA measures).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from slagate.errors import TimelineError
from slagate.files import write_atomically
from slagate.numbers import MAX_DURATION_S
from slagate.report.summary import Summary
from slagate.scenario import (
    AvailabilitySla,
    LatencySla,
    RolloutDurationSla,
    Scenario,
    ThroughputSla,
)
from slagate.sla.availability import evaluate_availability
from slagate.sla.latency import evaluate_latency
from slagate.sla.rollout_duration import evaluate_rollout_duration
from slagate.sla.rollout_spans import rollout_spans
from slagate.sla.throughput import evaluate_throughput
from slagate.sla.verdict import Verdict, value_text
from slagate.sla.windows import anchors_of, window_from
from slagate.timeline import Timeline

COMPARISON = "comparison.json"
SCHEMA_VERSION = 1
ALL_ENDPOINTS = "all endpoints"
PERCENTILES = (50.0, 95.0, 99.0)
UNBOUNDED = 1e12  # the bound measurements are taken with: only the measured value is used


@dataclass(frozen=True)
class Change:
    """One measurement in both runs: ``subject`` (an endpoint, a Deployment or an SLA id),
    ``what`` was measured, and its value in each (None: nothing measured there)."""

    subject: str
    what: str
    unit: str
    base: float | None
    new: float | None
    base_status: str = ""  # for SLA rows: pass | fail | no-data in each run
    new_status: str = ""

    @property
    def base_text(self) -> str:
        return value_text(self.base, self.unit)

    @property
    def new_text(self) -> str:
        return value_text(self.new, self.unit)

    @property
    def ratio(self) -> float | None:
        """new / base; None when either is missing or the base is 0."""
        if self.base is None or self.new is None or self.base == 0:
            return None
        return self.new / self.base

    @property
    def change_text(self) -> str:
        """``+12.5 ms (x1.25)``; ``-`` when one side measured nothing."""
        if self.base is None or self.new is None:
            return "-"
        delta = self.new - self.base
        sign = "+" if delta >= 0 else "-"
        text = f"{sign}{value_text(abs(delta), self.unit)}"
        return text + (f" (x{self.ratio:.2f})" if self.ratio is not None else "")


@dataclass(frozen=True)
class Comparison:
    """The baseline run and the new run of one scenario, measurement by measurement."""

    scenario: str
    base_run: str
    new_run: str
    changes: tuple[Change, ...]
    slas: tuple[Change, ...]

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes + self.slas)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "base_run": self.base_run,
            "new_run": self.new_run,
            "changes": [asdict(c) for c in self.changes],
            "slas": [asdict(c) for c in self.slas],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Comparison:
        return cls(
            scenario=str(data["scenario"]),
            base_run=str(data["base_run"]),
            new_run=str(data["new_run"]),
            changes=tuple(Change(**c) for c in data["changes"]),
            slas=tuple(Change(**c) for c in data["slas"]),
        )


def compare_runs(
    scenario: Scenario,
    base: Timeline,
    new: Timeline,
    base_summary: Summary | None,
    new_summary: Summary | None,
) -> Comparison:
    """``new`` beside ``base``: both runs of ``scenario`` (the caller checks the names)."""
    changes = [*_endpoint_changes(scenario, base, new), *_rollout_changes(scenario, base, new)]
    return Comparison(
        scenario=scenario.name,
        base_run=base.info.run_id,
        new_run=new.info.run_id,
        changes=tuple(changes),
        slas=_sla_changes(base_summary, new_summary),
    )


def _endpoint_changes(scenario: Scenario, base: Timeline, new: Timeline) -> Iterator[Change]:
    for endpoint in (None, *_endpoints(base.requests, new.requests)):
        subject = endpoint or ALL_ENDPOINTS
        for p in PERCENTILES:
            spec = LatencySla(kind="latency", percentile=p, max_ms=UNBOUNDED, endpoint=endpoint)
            yield _change(subject, f"p{p:g}", "ms", spec, evaluate_latency, scenario, base, new)
        spec_a = AvailabilitySla(kind="availability", min_percent=0, endpoint=endpoint)
        a, b = (_measured(spec_a, evaluate_availability, scenario, t) for t in (base, new))
        yield Change(subject, "error ratio", "%", _errors(a), _errors(b))
        spec_t = ThroughputSla(kind="throughput", min_rps=0, endpoint=endpoint)
        yield _change(
            subject, "throughput", "rps", spec_t, evaluate_throughput, scenario, base, new
        )


def _rollout_changes(scenario: Scenario, base: Timeline, new: Timeline) -> Iterator[Change]:
    deployments = {
        span.deployment
        for timeline in (base, new)
        for span in rollout_spans(timeline.harness_events())
        if span.deployment
    }
    for name in sorted(deployments):
        spec = RolloutDurationSla(kind="rollout_duration", deployment=name, max=MAX_DURATION_S)
        yield _change(
            name, "rollout duration", "s", spec, evaluate_rollout_duration, scenario, base, new
        )


def _sla_changes(base: Summary | None, new: Summary | None) -> tuple[Change, ...]:
    """Per SLA of the new run (else the baseline's), its measured value in both runs."""
    before = {v.id: v for v in base.verdicts} if base else {}
    after = {v.id: v for v in new.verdicts} if new else {}
    shown = new.verdicts if new else tuple(before.values())
    return tuple(_sla_change(v, before.get(v.id), after.get(v.id)) for v in shown)


def _sla_change(sla: Verdict, base: Verdict | None, new: Verdict | None) -> Change:
    return Change(
        subject=sla.id,
        what=sla.kind,
        unit=sla.unit,
        base=base.measured if base else None,
        new=new.measured if new else None,
        base_status=base.status.value if base else "absent",
        new_status=new.status.value if new else "absent",
    )


def _change(
    subject: str, what: str, unit: str, spec: Any, evaluate: Any, scenario: Scenario,
    base: Timeline, new: Timeline,
) -> Change:  # fmt: skip
    values = [_measured(spec, evaluate, scenario, t) for t in (base, new)]
    return Change(subject, what, unit, values[0], values[1])


def _measured(spec: Any, evaluate: Any, scenario: Scenario, timeline: Timeline) -> float | None:
    window = window_from(spec.window, anchors_of(timeline), scenario.windows)
    verdict: Verdict = evaluate(spec, timeline, window)
    return verdict.measured


def _errors(availability: float | None) -> float | None:
    return None if availability is None else round(100.0 - availability, 3)


def _endpoints(*frames: pd.DataFrame) -> list[str]:
    pairs = {(m, n) for f in frames for m, n in zip(f["method"], f["name"], strict=True)}
    return [f"{m} {n}" if m else str(n) for m, n in sorted(pairs, key=lambda p: (p[1], p[0]))]


def write_comparison(run_dir: Path, comparison: Comparison) -> Path:
    """Write ``run_dir/comparison.json`` atomically and return its path."""
    path = Path(run_dir) / COMPARISON
    write_atomically(path, json.dumps(comparison.to_json(), indent=2) + "\n")
    return path


def read_comparison(run_dir: Path) -> Comparison | None:
    """``run_dir/comparison.json``, or None when the run was never compared; an unreadable
    file is a ``TimelineError`` naming it."""
    path = Path(run_dir) / COMPARISON
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as e:
        raise TimelineError(f"cannot read {path}: {e}; run `slagate compare` again") from e
    try:
        if data.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
            raise TimelineError(f"{path} was written by a newer slagate; upgrade slagate")
        return Comparison.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise TimelineError(f"cannot read {path}: not a slagate comparison ({e!r})") from e
