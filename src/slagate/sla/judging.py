"""Judging a scenario's SLAs over a recorded timeline, and the exit code that follows.

Pure: ``judge`` reads the scenario and the timeline only; no clients, no clock reads, no
logging, no I/O. It never raises on odd data: empty tables, missing events or an unknown
SLA kind give no-data verdicts, and no data is never a pass.

Each SLA kind maps to an evaluator ``(spec, timeline, window) -> Verdict`` in a registry;
later kinds plug in by passing a larger mapping (``{**EVALUATORS, "kind": evaluate}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from slagate.errors import ExitCode
from slagate.scenario import Scenario
from slagate.sla.availability import evaluate_availability, evaluate_failed_requests
from slagate.sla.latency import evaluate_latency
from slagate.sla.lost_writes import evaluate_no_lost_writes
from slagate.sla.promql import evaluate_promql
from slagate.sla.ready_endpoints import evaluate_ready_endpoints
from slagate.sla.relative import Baseline, judge_relative
from slagate.sla.replicas import evaluate_flapping, evaluate_max_replicas
from slagate.sla.rollout_duration import evaluate_rollout_duration
from slagate.sla.scaling import evaluate_scale_in, evaluate_scale_out
from slagate.sla.throughput import evaluate_throughput
from slagate.sla.verdict import Status, Verdict, Window
from slagate.sla.windows import anchors_of, window_from
from slagate.timeline import Timeline

# ``spec`` is the SLA model of the evaluator's own kind, hence ``Any`` here.
Evaluator = Callable[[Any, Timeline, Window | None], Verdict]

EVALUATORS: Mapping[str, Evaluator] = MappingProxyType(
    {
        "availability": evaluate_availability,
        "failed_requests": evaluate_failed_requests,
        "latency": evaluate_latency,
        "throughput": evaluate_throughput,
        "ready_endpoints": evaluate_ready_endpoints,
        "rollout_duration": evaluate_rollout_duration,
        "scale_out": evaluate_scale_out,
        "max_replicas": evaluate_max_replicas,
        "scale_in": evaluate_scale_in,
        "flapping": evaluate_flapping,
        "no_lost_writes": evaluate_no_lost_writes,
        "promql": evaluate_promql,
    }
)


def judge(
    scenario: Scenario,
    timeline: Timeline,
    *,
    baseline: Baseline | None = None,
    evaluators: Mapping[str, Evaluator] = EVALUATORS,
) -> list[Verdict]:
    """One verdict per SLA of ``scenario``, in scenario order. SLAs relative to a
    baseline (``max_ratio_to_baseline``, ...) are judged against ``baseline``'s timeline
    (``slagate.sla.relative``); without one they have no data."""
    anchors = anchors_of(timeline)
    verdicts = []
    for spec in scenario.slas:
        window = window_from(spec.window, anchors, scenario.windows)
        evaluate = evaluators.get(spec.kind)
        if evaluate is None:
            verdicts.append(_unjudgeable(spec))
        elif getattr(spec, "ratio", None) is not None:
            verdicts.append(
                judge_relative(spec, evaluate, timeline, window, baseline, scenario.windows)
            )
        else:
            verdicts.append(evaluate(spec, timeline, window))
    return verdicts


def exit_code_for(verdicts: Iterable[Verdict], *, aborted: bool) -> ExitCode:
    """``ABORTED`` if the run was stopped early (its verdicts prove nothing either way),
    else ``FAILED`` if any SLA failed or had no data (unless it was optional), else
    ``PASSED``.

    No SLAs at all is ``PASSED``; callers may warn that nothing was checked.
    """
    if aborted:
        return ExitCode.ABORTED
    if any(v.fails_the_gate for v in verdicts):
        return ExitCode.FAILED
    return ExitCode.PASSED


def _unjudgeable(spec: Any) -> Verdict:
    return Verdict(
        id=spec.sla_id,
        kind=spec.kind,
        status=Status.NO_DATA,
        measured=None,
        threshold=0.0,
        window=spec.window_label,
        message=f"no data: no evaluator for SLA kind {spec.kind!r} is installed",
    )
