"""Judging a scenario's SLAs over a recorded timeline, and the exit code that follows.

Pure: ``judge`` reads the scenario and the timeline only; no clients, no clock reads, no
logging, no I/O. It never raises on odd data: empty tables, missing events or an unknown
SLA kind give no-data verdicts, and no data is never a pass.

Each SLA kind maps to an evaluator ``(spec, timeline, window) -> Verdict`` in a registry;
later kinds plug in by passing a larger mapping (``{**EVALUATORS, "kind": evaluate}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from slagate.errors import ExitCode
from slagate.scenario import Scenario, WindowSpan
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
from slagate.sla.windows import Anchors, anchors_of, window_from
from slagate.sla.workers import evaluate_workers
from slagate.timeline import Timeline

RATIOS = ("availability", "latency")
"""Kinds judged as a ratio over their window so far: requests recorded later could dilute
a breach back over the line. The one of them that stopped a run is judged in its window
as it was when it stopped the run (``window_of``)."""

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
    """One verdict per SLA of ``scenario``, in scenario order; a distributed run adds
    its ``workers`` verdict last (``slagate.sla.workers``). SLAs relative to a baseline
    (``max_ratio_to_baseline``, ...) are judged against ``baseline``'s timeline
    (``slagate.sla.relative``); without one they have no data."""
    anchors = anchors_of(timeline)
    verdicts = [
        judge_sla(
            spec,
            timeline,
            window_of(spec, timeline, anchors, scenario.windows),
            evaluators,
            baseline=baseline,
            named=scenario.windows,
        )
        for spec in scenario.slas
    ]
    workers = evaluate_workers(timeline, scenario.load.tolerate_worker_loss)
    return verdicts if workers is None else [*verdicts, workers]


def window_of(
    spec: Any, timeline: Timeline, anchors: Anchors, named: Mapping[str, WindowSpan]
) -> Window | None:
    """The window ``spec`` is judged in: its ``window`` (``window_from``), but for the
    ``RATIOS`` SLA whose ``abort_on_fail`` stopped the run (run.json ``stopped_by``), cut
    where it ended when it stopped the run (``stop_window_end_ms``): the requests of the
    second or two before the load stopped were not what the stop was decided on, and could
    dilute the breach that stopped it into a pass. The verdict reported is the one that
    stopped the run, judged on the data as recorded in the run folder."""
    window = window_from(spec.window, anchors, named)
    info = timeline.info
    end_ms = info.stop_window_end_ms
    if window is None or end_ms is None or spec.kind not in RATIOS:
        return window
    if spec.sla_id != info.stopped_by or not window.start_ms < end_ms < window.end_ms:
        return window
    return replace(window, end_ms=end_ms)


def judge_sla(
    spec: Any,
    timeline: Timeline,
    window: Window | None,
    evaluators: Mapping[str, Evaluator] = EVALUATORS,
    *,
    baseline: Baseline | None = None,
    named: Mapping[str, WindowSpan] | None = None,
) -> Verdict:
    """The verdict of one SLA in its resolved ``window``: what ``judge`` does per SLA, and
    what the live judge (``slagate.sla.live``) calls on the data recorded so far. A
    relative SLA is judged against ``baseline`` (measured in the ``named`` windows of
    the scenario); without one it has no data."""
    evaluate = evaluators.get(spec.kind)
    if evaluate is None:
        return _unjudgeable(spec)
    if getattr(spec, "ratio", None) is not None:
        return judge_relative(spec, evaluate, timeline, window, baseline, named or {})
    return evaluate(spec, timeline, window)


def exit_code_for(
    verdicts: Iterable[Verdict], *, aborted: bool, stopped_by: str | None = None
) -> ExitCode:
    """``ABORTED`` if the run was stopped early (its verdicts prove nothing either way),
    else ``FAILED`` if any SLA failed or had no data (unless it was optional), else
    ``PASSED``. A run stopped by an SLA's ``abort_on_fail`` (``stopped_by``) is
    ``FAILED`` when that SLA's verdict fails: the stop was the gate failing early.

    No SLAs at all is ``PASSED``; callers may warn that nothing was checked.
    """
    verdicts = list(verdicts)
    failed = {v.id for v in verdicts if v.status is Status.FAIL}
    if aborted and stopped_by is not None and stopped_by in failed:
        return ExitCode.FAILED
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
