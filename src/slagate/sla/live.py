"""Live SLA status: each SLA judged on the timeline recorded so far, while the run goes on.

Pure: ``judge_live(scenario, timeline, now_ms)`` reads the scenario, the timeline so far
and the instant it is judged at (passed in, never read); no clients, no logging, no I/O.
Every verdict comes from the evaluator of the final verdict (``judging.judge_sla``): there
is no second implementation. What this module adds is how to read a verdict on data that
is still growing (docs/live.md has the table):

- ``ok``: passes so far, away from its threshold;
- ``at risk``: passes so far, but close: an availability or failed-request budget more
  than half spent, a bound within 10 % of its threshold, a "time until" SLA past 90 % of
  its time without getting there;
- ``breached``: fails so far. ``stops`` says whether the rest of the run can repair it;
  only such a breach lets an ``abort_on_fail`` SLA stop the run (``stop_cause``);
- ``pending``: nothing to judge yet (its window has not begun, no data in it yet, a
  "time until" SLA still within its time), or judged after the run only (PromQL, read-back
  of writes).

Once the run has ended (``ended``), the live status is the verdict: pass is ``ok`` or
``at risk``, fail is ``breached``, no-data is ``pending``, with the same verdict object.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from slagate.scenario import Scenario
from slagate.sla.building import verdict as built_verdict
from slagate.sla.formatting import number, seconds
from slagate.sla.judging import EVALUATORS, RATIOS, Evaluator, judge_sla, window_of
from slagate.sla.verdict import Status, Verdict, Window
from slagate.sla.windows import Anchors, anchors_of
from slagate.timeline import Timeline

STOPPED_THE_RUN = "stopped the run"
"""How views mark the verdict of the SLA whose ``abort_on_fail`` stopped the run."""

RISK_MARGIN = 0.10
"""A bound passed by less than this share of its threshold is at risk."""

BUDGET_AT_RISK = 0.5
"""An availability or failed-request budget spent beyond this share is at risk."""

AFTER_THE_RUN = ("promql", "no_lost_writes")
"""Kinds judged only once the run has ended (after Prometheus' lag, after the read-back)."""

MONOTONE = ("failed_requests", "max_replicas", "flapping", "ready_endpoints")
"""Kinds whose measured value only gets worse as their window grows: a breach is final."""

TIME_UNTIL = ("scale_out", "rollout_duration")
"""Kinds that time an event during the load: late once their time has passed."""

STOPPING = MONOTONE + RATIOS + TIME_UNTIL
"""Kinds whose breach may stop the run (docs/live.md); ``abort_on_fail`` is refused on
every other kind when the scenario is read (``scenario.NO_IRREPARABLE_BREACH``)."""

LOWER_BOUNDS = ("availability", "throughput", "ready_endpoints")
"""Kinds whose threshold is a minimum; every other kind's is a maximum."""


class LiveState(enum.Enum):
    OK = "ok"
    AT_RISK = "at risk"
    BREACHED = "breached"
    PENDING = "pending"


@dataclass(frozen=True)
class LiveStatus:
    """One SLA's status so far: its state, the verdict behind it, and what views print.

    ``stops``: a breach the rest of the run cannot repair (docs/live.md, per kind).
    ``window_start_ms``: where its window began (``None``: not yet), for ``grace``.
    ``window_end_ms``: where its window ended so far: what run.json's
    ``stop_window_end_ms`` records when this status stops the run.
    """

    id: str
    state: LiveState
    verdict: Verdict
    measured_text: str
    note: str = ""
    stops: bool = False
    window_start_ms: int | None = None
    window_end_ms: int | None = None

    @property
    def threshold_text(self) -> str:
        return self.verdict.threshold_text

    @property
    def window(self) -> str:
        return self.verdict.window


def judge_live(
    scenario: Scenario,
    timeline: Timeline,
    now_ms: int,
    *,
    ended: bool = False,
    evaluators: Mapping[str, Evaluator] = EVALUATORS,
) -> tuple[LiveStatus, ...]:
    """Every SLA of ``scenario`` on ``timeline`` as recorded by ``now_ms``, in scenario
    order; ``ended``: the run is over, so each status is its final verdict."""
    anchors = anchors_of(timeline)
    statuses = []
    for spec in scenario.slas:
        if spec.kind in AFTER_THE_RUN and not ended:
            statuses.append(_after_the_run(spec))
            continue
        window = window_of(spec, timeline, anchors, scenario.windows)
        verdict = judge_sla(spec, timeline, window, evaluators)
        status = _final(spec, verdict) if ended else _so_far(spec, verdict, anchors, now_ms)
        statuses.append(_with_window(status, window))
    return tuple(statuses)


def stop_cause(
    scenario: Scenario, statuses: Sequence[LiveStatus], now_ms: int
) -> tuple[Any, LiveStatus] | None:
    """The first ``abort_on_fail`` SLA (scenario order) breached beyond repair whose
    ``grace`` has passed since its window began, with its status; None if none is."""
    for spec, status in zip(scenario.slas, statuses, strict=True):
        if not (spec.abort_on_fail and status.stops and status.window_start_ms is not None):
            continue
        if now_ms >= status.window_start_ms + round(spec.grace * 1000):
            return spec, status
    return None


# --- reading a verdict -----------------------------------------------------------------------


def _final(spec: Any, verdict: Verdict) -> LiveStatus:
    state = {
        Status.PASS: _passing_state(spec, verdict),
        Status.FAIL: LiveState.BREACHED,
        Status.NO_DATA: LiveState.PENDING,
    }[verdict.status]
    return LiveStatus(verdict.id, state, verdict, verdict.measured_text)


def _so_far(spec: Any, verdict: Verdict, anchors: Anchors, now_ms: int) -> LiveStatus:
    if verdict.status is Status.NO_DATA:
        return LiveStatus(verdict.id, LiveState.PENDING, verdict, "-", "no data yet")
    if spec.kind in TIME_UNTIL and verdict.never:
        return _waiting(spec, verdict, _since_ms(spec, anchors), now_ms)
    if verdict.status is Status.FAIL:
        stops = spec.kind in STOPPING
        return LiveStatus(verdict.id, LiveState.BREACHED, verdict, verdict.measured_text, "", stops)
    return LiveStatus(verdict.id, _passing_state(spec, verdict), verdict, verdict.measured_text, "")


def _waiting(spec: Any, verdict: Verdict, since_ms: int | None, now_ms: int) -> LiveStatus:
    """A "time until" SLA whose event has not happened yet: pending while it has time,
    at risk past 90 % of it, breached (for good) once its time is up."""
    allowed = spec.threshold[0]
    if since_ms is None:
        return LiveStatus(verdict.id, LiveState.PENDING, verdict, "-", "not started")
    waited = max(0.0, (now_ms - since_ms) / 1000)
    text = f"{seconds(waited)} so far"
    if waited > allowed:
        note = f"not there after {seconds(waited)}, {number(allowed)} s allowed"
        return LiveStatus(verdict.id, LiveState.BREACHED, verdict, text, note, True)
    if waited >= (1 - RISK_MARGIN) * allowed:
        return LiveStatus(verdict.id, LiveState.AT_RISK, verdict, text, "time nearly up")
    return LiveStatus(verdict.id, LiveState.PENDING, verdict, text, "waiting")


def _since_ms(spec: Any, anchors: Anchors) -> int | None:
    """When the awaited event's clock started: load start, or the unsettled rollout's start."""
    if spec.kind == "scale_out":
        return anchors.load_start_ms
    unsettled = [
        r.start_ms for r in anchors.rollouts if r.deployment == spec.deployment and not r.settled
    ]
    return unsettled[0] if unsettled else None


def _passing_state(spec: Any, verdict: Verdict) -> LiveState:
    """``at risk`` when a passing value is close to failing (module doc), else ``ok``."""
    measured, threshold = verdict.measured, verdict.threshold
    if measured is None:
        return LiveState.OK
    if spec.kind == "availability":
        budget = 100.0 - threshold
        spent = (100.0 - measured) / budget if budget > 0 else 0.0
        return LiveState.AT_RISK if spent > BUDGET_AT_RISK else LiveState.OK
    if spec.kind == "failed_requests":
        return LiveState.AT_RISK if measured > BUDGET_AT_RISK * threshold else LiveState.OK
    if spec.kind in LOWER_BOUNDS:
        close = measured < (1 + RISK_MARGIN) * threshold
    else:
        close = measured >= (1 - RISK_MARGIN) * threshold and not math.isclose(threshold, 0)
    return LiveState.AT_RISK if close else LiveState.OK


def _after_the_run(spec: Any) -> LiveStatus:
    message = "pending: judged after the run"
    verdict = built_verdict(spec, Status.NO_DATA, None, spec.window_label, message)
    return LiveStatus(spec.sla_id, LiveState.PENDING, verdict, "-", "judged after the run")


def _with_window(status: LiveStatus, window: Window | None) -> LiveStatus:
    if window is None:
        return status
    return replace(status, window_start_ms=window.start_ms, window_end_ms=window.end_ms)
