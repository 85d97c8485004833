"""Rollout-duration SLAs: each rollout of a Deployment settles within ``max`` seconds.

Pure: ``evaluate_rollout_duration(spec, timeline, window) -> Verdict`` reads only the
timeline; no clients, no clock reads, no logging, no I/O.

A rollout lasts from its ``action_start`` until ``rollout_settled`` (the old pods are gone,
which comes after ``kubectl rollout status`` is satisfied: old pods may still be draining).
The rollouts judged are those of ``spec.deployment`` that started inside the window; the
measured value is the longest. A rollout that never settled fails, measured until its
``action_end`` (e.g. a timeout) or the end of the window.
"""

from __future__ import annotations

from slagate.scenario import RolloutDurationSla
from slagate.sla.building import judged, no_data, window_never_began
from slagate.sla.formatting import capped, number, plural, seconds
from slagate.sla.rollout_spans import RolloutSpan, rollout_spans
from slagate.sla.verdict import Evidence, Verdict, Window
from slagate.timeline import Timeline


def evaluate_rollout_duration(
    spec: RolloutDurationSla, timeline: Timeline, window: Window | None
) -> Verdict:
    """The longest rollout of ``spec.deployment`` in the window, at most ``spec.max`` s."""
    if window is None:
        return window_never_began(spec)
    rollouts = [
        r
        for r in rollout_spans(timeline.events)
        if r.deployment == spec.deployment and window.start_ms <= r.start_ms < window.end_ms
    ]
    if not rollouts:
        return no_data(spec, window, f"no rollout of Deployment {spec.deployment} recorded")
    longest = max(_elapsed(r, window) for r in rollouts)
    unsettled = [r for r in rollouts if not r.settled]
    ok = not unsettled and longest <= spec.max
    if unsettled:
        message = _never_settled(spec, unsettled, len(rollouts), window)
    else:
        message = (
            f"{spec.deployment} rollout took {seconds(longest, spec.max)} {'<=' if ok else '>'} "
            f"{number(spec.max)} s"
        )
        if len(rollouts) > 1:
            message += f" (longest of {len(rollouts)})"
    if ok:
        return judged(spec, ok, longest, window, message)
    return judged(
        spec, ok, longest, window, message, capped([_phases(r) for r in rollouts], "rollouts")
    )


def _elapsed(rollout: RolloutSpan, window: Window) -> float:
    """Seconds until settled; for a rollout that never settled, until it was given up."""
    end = rollout.end_ms if rollout.end_ms is not None else window.end_ms
    return (end - rollout.start_ms) / 1000


def _never_settled(
    spec: RolloutDurationSla, unsettled: list[RolloutSpan], total: int, window: Window
) -> str:
    first = unsettled[0]
    elapsed = seconds(_elapsed(first, window))
    if first.ended_ms is not None:
        how = f"the action ended ({_outcome(first)}) after {elapsed}"
    else:
        how = f"still rolling after {elapsed} at the end of {window.label}"
    message = f"{spec.deployment} rollout never completed: {how}"
    if total > 1:
        message += f" ({len(unsettled)} of {plural(total, 'rollout')} never completed)"
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
