"""Rollout-duration SLAs: each rollout of a Deployment settles within ``max`` seconds.

Pure: ``evaluate_rollout_duration(spec, timeline, window) -> Verdict`` reads only the
timeline; no clients, no clock reads, no logging, no I/O.

A rollout lasts from its ``action_start`` until ``rollout_settled`` (the old pods are gone,
which comes after ``kubectl rollout status`` is satisfied: old pods may still be draining).
The rollouts judged are those of ``spec.deployment`` that started inside the window; the
measured value is the longest. A rollout that never settled, because its action ended
(e.g. a timeout) or the window did, fails with nothing measured (``Verdict.never``): it
"never completed" (``kubectl rollout status`` was never satisfied) or "never settled" (it
was, but old pods were left). A rollout that never completed says why when its new pods'
status and Events tell (``stuck_rollouts``): ``...; cause: readiness probe failed on 1 new
pod (order-7d-x): HTTP probe failed with statuscode: 503``. A rollout that settled too
late says so when an old pod outlived its preStop by far (``lingering_pods``: ``...;
cause: old pod order-6c-x lived 15.0 s after its deletion, 13.0 s past its 2 s preStop:
it did not exit on SIGTERM ...``).
"""

from __future__ import annotations

from slagate.scenario import RolloutDurationSla
from slagate.sla.building import judged, never_happened, no_data, window_never_began
from slagate.sla.formatting import capped, number, plural, seconds, versus
from slagate.sla.lingering_pods import lingering_cause
from slagate.sla.rollout_spans import RolloutSpan, rollout_spans
from slagate.sla.stuck_rollouts import stuck_cause
from slagate.sla.verdict import Evidence, Verdict, Window
from slagate.timeline import Timeline


def evaluate_rollout_duration(
    spec: RolloutDurationSla, timeline: Timeline, window: Window | None
) -> Verdict:
    """The longest rollout of ``spec.deployment`` in the window, at most ``spec.bound`` s."""
    if window is None:
        return window_never_began(spec)
    spans = [
        r
        for r in rollout_spans(timeline.harness_events())
        if r.deployment == spec.deployment and window.start_ms <= r.start_ms < window.end_ms
    ]
    if not spans:
        return no_data(spec, window, f"no rollout of Deployment {spec.deployment} recorded")
    evidence = capped([_phases(r) for r in spans], "rollouts")
    unsettled = [r for r in spans if r.settled_ms is None]
    if unsettled:
        message = _never_settled(spec, unsettled, len(spans), window)
        first = unsettled[0]
        cause = None
        if first.complete_ms is None:
            until_ms = first.ended_ms if first.ended_ms is not None else window.end_ms
            cause = stuck_cause(first, timeline, until_ms)
        if cause is not None:
            message = f"{message}; cause: {cause.text}"
            evidence = [*evidence, *cause.evidence]
        return never_happened(spec, window, message, evidence)
    longest = max((r.settled_ms - r.start_ms) / 1000 for r in spans if r.settled_ms is not None)
    ok = longest <= spec.bound
    message = (
        f"{spec.deployment} rollout took {seconds(longest, spec.bound)} {versus(ok)} "
        f"{number(spec.bound)} s"
    )
    if len(spans) > 1:
        message += f" (longest of {len(spans)})"
    if not ok:
        slowest = max(spans, key=lambda r: (r.settled_ms or 0) - r.start_ms)
        lingering = lingering_cause(slowest, timeline.pods)
        message += f"; cause: {lingering}" if lingering is not None else ""
    return judged(spec, ok, longest, window, message, () if ok else evidence)


def _never_settled(
    spec: RolloutDurationSla, unsettled: list[RolloutSpan], total: int, window: Window
) -> str:
    """``order rollout never completed: the action ended (timeout) after 30.0 s``."""
    first = unsettled[0]
    if first.ended_ms is not None:
        elapsed = seconds((first.ended_ms - first.start_ms) / 1000)
        until = f"the action ended ({_outcome(first)}) after {elapsed}"
    else:
        elapsed = seconds((window.end_ms - first.start_ms) / 1000)
        until = f"still rolling after {elapsed} at the end of {window.label}"
    if first.complete_ms is None:
        message = f"{spec.deployment} rollout never completed: {until}"
    else:
        complete = _phase("complete", "", first.complete_ms, first.start_ms)
        message = (
            f"{spec.deployment} rollout never settled: {complete}, old pods never gone; {until}"
        )
    if total > 1:
        message += f" ({len(unsettled)} of {plural(total, 'rollout')} never settled)"
    return message


def _phases(rollout: RolloutSpan) -> Evidence:
    """``rollout_restart deployment/order started: complete after 30.1 s, ...``."""

    start = rollout.start_ms
    parts = [
        _phase("complete", "never complete", rollout.complete_ms, start),
        _phase("old pods gone", "old pods never gone", rollout.settled_ms, start),
    ]
    if rollout.ended_ms is not None and rollout.outcome != "ok":
        parts.append(f"{_phase('action ended', '', rollout.ended_ms, start)} ({_outcome(rollout)})")
    return Evidence(start, f"{rollout.name} started: {', '.join(parts)}")


def _phase(done: str, never: str, t_ms: int | None, start_ms: int) -> str:
    return never if t_ms is None else f"{done} after {seconds((t_ms - start_ms) / 1000)}"


def _outcome(rollout: RolloutSpan) -> str:
    return rollout.outcome or "no message"
