"""Scale-out and scale-in SLAs: how soon after load start (stop) a Deployment got there.

Pure: ``evaluate_*(spec, timeline, window) -> Verdict`` reads only the timeline; no clients,
no clock reads, no logging, no I/O. The state in force at load start (stop) counts, so a
Deployment already there took 0 s; the search ends with the window (``run`` by default).

- ``scale_out``: load start .. the Deployment's ready count first at least ``replicas``.
- ``scale_in``: load stop .. the Deployment's desired and current counts first at most
  ``replicas`` (the controller has acted; terminating pods no longer count as current).

A Deployment that never got there before the window ended fails with nothing measured
(``Verdict.never``): the message says how long it was watched and where it stayed.

A late or missing scale is broken down into the steps the time went to, each timed from the
load start (stop), as DESIGN.md asks ("slow scale-out points at the HPA target, the sync
period or pod start time"):

- out: CPU above the HPA target (first HPA row with ``metric_value > metric_target``), the
  HPA deciding ``replicas`` (first HPA ``desired`` at least that, or a ``SuccessfulRescale``
  Event with "New size: N"), pods created (the Deployment's last pod ``added`` after that),
  pods scheduled (only when some of its pods had a ``FailedScheduling`` Event after the
  origin: the last ``Scheduled`` Event of those pods; never, if one of them was not bound
  by the end: the cluster had no capacity for it, which the step names), pods ready;
- in: CPU below the target, the HPA deciding at most ``replicas``, the Deployment there.

Without HPA rows the decision step is the Deployment's own desired count (a ``scale`` action).
A step taking ``SLOW_SHARE`` of the delay or more carries a hint at its usual cause.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from slagate.scenario import ScaleInSla, ScaleOutSla
from slagate.sla.building import judged, never_happened, no_data, window_never_began
from slagate.sla.formatting import capped, count, number, number_or_dash, plural, seconds, versus
from slagate.sla.history import first_at, in_force, pods_of, records, replica_rows
from slagate.sla.replicas import hpa_text
from slagate.sla.verdict import Evidence, Verdict, Window
from slagate.sla.windows import anchors_of
from slagate.timeline import EventKind, EventSource, PodTransition, ReplicaKind, Timeline

SLOW_SHARE = 0.2
_NEW_SIZE = re.compile(r"New size: (\d+)")
_SCALING_EVENTS = ("SuccessfulRescale", "ScalingReplicaSet")
_FAILED_SCHEDULING = "FailedScheduling"
_SCHEDULED = "Scheduled"


@dataclass(frozen=True)
class Step:
    """One step of a scale: ``done`` happened at ``t_ms``, or ``never`` (then the rest
    did not matter). ``hint`` names the usual cause when the step was slow."""

    done: str
    never: str
    t_ms: int | None
    hint: str = ""


def evaluate_scale_out(spec: ScaleOutSla, timeline: Timeline, window: Window | None) -> Verdict:
    """Seconds from load start until ``spec.replicas`` ready, at most ``spec.bound``."""
    scale = _observed(spec, timeline, window, EventKind.LOAD_START)
    if isinstance(scale, Verdict):
        return scale
    states = scale.deployment
    reached = first_at(states, states["ready"] >= spec.replicas)
    if reached is None:
        goal = f"reached {plural(spec.replicas, 'ready replica')}"
        still = f"at most {number_or_dash(states['ready'].max())} ready"
        return _never(spec, scale, goal, still, _out_steps)
    return _took(spec, scale, reached, "scale-out", _out_steps)


def evaluate_scale_in(spec: ScaleInSla, timeline: Timeline, window: Window | None) -> Verdict:
    """Seconds from load stop until at most ``spec.replicas``, at most ``spec.bound``."""
    scale = _observed(spec, timeline, window, EventKind.LOAD_STOP)
    if isinstance(scale, Verdict):
        return scale
    states = scale.deployment
    there = (states["desired"] <= spec.replicas) & ~(states["current"] > spec.replicas)
    reached = first_at(states, there)
    if reached is None:
        last = states.iloc[-1]
        goal = f"came down to {plural(spec.replicas, 'replica')}"
        still = (
            f"still {number_or_dash(last['desired'])} desired, "
            f"{number_or_dash(last['current'])} current"
        )
        return _never(spec, scale, goal, still, _in_steps)
    return _took(spec, scale, reached, "scale-in", _in_steps)


def _observed(
    spec: ScaleOutSla | ScaleInSla, timeline: Timeline, window: Window | None, origin: EventKind
) -> _Scale | Verdict:
    """What the SLA looks at from the ``origin`` event on, or the no-data verdict."""
    if window is None:
        return window_never_began(spec)
    anchors = anchors_of(timeline)
    origin_ms = anchors.load_start_ms if origin is EventKind.LOAD_START else anchors.load_stop_ms
    if origin_ms is None:
        return no_data(spec, window, f"no {origin} event")
    scale = _scale(spec.deployment, spec.replicas, timeline, origin, origin_ms, window)
    if scale.deployment.empty:
        return no_data(spec, window, f"no replicas recorded for Deployment {spec.deployment}")
    return scale


def _took(
    spec: ScaleOutSla | ScaleInSla,
    scale: _Scale,
    reached: int,
    what: str,
    steps: Callable[[_Scale, int | None], list[Step]],
) -> Verdict:
    """Pass or fail on the seconds until ``reached``; a late scale is broken down."""
    measured = (reached - scale.origin_ms) / 1000
    ok = measured <= spec.bound
    message = (
        f"{spec.deployment} {what} to {count(spec.replicas)} took "
        f"{seconds(measured, spec.bound)} {versus(ok)} {number(spec.bound)} s "
        f"after {scale.since}"
    )
    if ok:
        return judged(spec, ok, measured, scale.window, message)
    message += f": {breakdown(steps(scale, reached), scale.origin_ms, reached)}"
    return judged(spec, ok, measured, scale.window, message, _evidence(scale, reached))


def _never(
    spec: ScaleOutSla | ScaleInSla,
    scale: _Scale,
    goal: str,
    still: str,
    steps: Callable[[_Scale, int | None], list[Step]],
) -> Verdict:
    """Failed with nothing measured: the Deployment never got there in the window.
    ``goal`` is what it never did ("reached 3 ready replicas"), ``still`` where it stayed."""
    watched = (scale.end_ms - scale.origin_ms) / 1000
    at_end = f"{still} at the end of {scale.window.label}"
    if watched < spec.bound:
        at_end += (
            f", which ended {seconds(spec.bound - watched)} before the "
            f"{number(spec.bound)} s allowed"
        )
    message = f"{spec.deployment} never {goal} in {seconds(watched)} after {scale.since} ({at_end})"
    steps_text = breakdown(steps(scale, None), scale.origin_ms, scale.end_ms)
    if steps_text:
        message += f": {steps_text}"
    return never_happened(spec, scale.window, message, _evidence(scale, scale.end_ms))


def breakdown(steps: Sequence[Step], origin_ms: int, end_ms: int) -> str:
    """``CPU above target after 8.0 s, HPA decided 3 replicas after 17.1 s (...)``.

    A step that never happened ends the breakdown with its ``never`` text, unless a later
    step did happen (then it is left out: it did not hold the scale up).
    """
    parts: list[str] = []
    previous, total = origin_ms, end_ms - origin_ms
    last_done = max((i for i, s in enumerate(steps) if s.t_ms is not None), default=-1)
    for i, step in enumerate(steps):
        if step.t_ms is None:
            if i < last_done:
                continue
            if step.never:
                parts.append(step.never)
            break
        text = f"{step.done} after {seconds((step.t_ms - origin_ms) / 1000)}"
        if step.hint and total > 0 and step.t_ms - previous >= SLOW_SHARE * total:
            text += f" ({step.hint})"
        parts.append(text)
        previous = max(previous, step.t_ms)
    return ", ".join(parts)


@dataclass(frozen=True)
class _Scale:
    """What one scale SLA looks at, from ``origin_ms`` (load start or stop) to ``end_ms``
    (the window's end): the Deployment's and its HPA's states, its pods, and the
    scaling Events of both."""

    replicas: int
    since: str  # what origin_ms is: "load start" or "load stop"
    origin_ms: int
    end_ms: int
    window: Window
    deployment: pd.DataFrame
    hpa: pd.DataFrame
    pods: pd.DataFrame
    events: pd.DataFrame
    scheduling: pd.DataFrame  # FailedScheduling / Scheduled Events of its pods


def _scale(
    name: str, replicas: int, timeline: Timeline, origin: EventKind, origin_ms: int, window: Window
) -> _Scale:
    end_ms = max(origin_ms, window.end_ms)
    rows = timeline.replicas
    pods = pods_of(timeline.pods, name)
    return _Scale(
        replicas=replicas,
        since=origin.replace("_", " "),
        origin_ms=origin_ms,
        end_ms=end_ms,
        window=window,
        deployment=in_force(replica_rows(rows, ReplicaKind.DEPLOYMENT, name), origin_ms, end_ms),
        hpa=in_force(replica_rows(rows, ReplicaKind.HPA, name), origin_ms, end_ms),
        pods=pods,
        events=_scaling_events(timeline.events, name, origin_ms, end_ms),
        scheduling=_scheduling_events(timeline.events, pods, origin_ms, end_ms),
    )


def _scaling_events(events: pd.DataFrame, name: str, start_ms: int, end_ms: int) -> pd.DataFrame:
    """The HPA's and the Deployment's scaling Events in ``[start_ms, end_ms)``."""
    mask = (events["source"] == EventSource.KUBERNETES) & events["kind"].isin(_SCALING_EVENTS)
    mask &= events["name"].isin((f"{ReplicaKind.HPA}/{name}", f"{ReplicaKind.DEPLOYMENT}/{name}"))
    mask &= (events["t_ms"] >= start_ms) & (events["t_ms"] < end_ms)
    return events[mask].sort_values("t_ms", kind="stable")


def _scheduling_events(
    events: pd.DataFrame, pods: pd.DataFrame, start_ms: int, end_ms: int
) -> pd.DataFrame:
    """The scheduler's Events about ``pods`` in ``[start_ms, end_ms]``, with ``pod``."""
    names = "Pod/" + pods["name"].drop_duplicates()
    mask = (events["source"] == EventSource.KUBERNETES) & events["name"].isin(names)
    mask &= events["kind"].isin((_FAILED_SCHEDULING, _SCHEDULED))
    mask &= (events["t_ms"] >= start_ms) & (events["t_ms"] <= end_ms)
    found = events[mask].sort_values("t_ms", kind="stable")
    return found.assign(pod=found["name"].str.removeprefix("Pod/"))


# --- the steps --------------------------------------------------------------------------------


def _out_steps(s: _Scale, reached: int | None) -> list[Step]:
    n, hpa = s.replicas, s.hpa
    if hpa.empty:
        decided = _asked(s, s.deployment["desired"] >= n)
    else:
        limit = hpa["max_replicas"].iloc[-1]
        capped_at = f" (its max_replicas is {number_or_dash(limit)})" if limit < n else ""
        decided = [
            Step(
                "CPU above target",
                "CPU never above target",
                first_at(hpa, hpa["metric_value"] > hpa["metric_target"]),
                "metrics resolution, or load below the HPA target",
            ),
            Step(
                f"HPA decided {plural(n, 'replica')}",
                f"HPA never decided {plural(n, 'replica')}{capped_at}",
                _decided(s, hpa["desired"] >= n, lambda size: size >= n),
                "sync period or scale-up policy",
            ),
        ]
    created = _last_added(s, decided[-1].t_ms, s.end_ms if reached is None else reached)
    return [
        *decided,
        Step("pods created", "no pod created", created, "pod creation: quota or scheduling"),
        *_scheduled(s, s.end_ms if reached is None else reached),
        Step("ready", "", reached, "slow readiness: pod start-up or probe timings"),
    ]


def _scheduled(s: _Scale, until_ms: int) -> list[Step]:
    """The capacity step: pods that found no node (``FailedScheduling``), bound when (their
    last ``Scheduled`` Event up to ``until_ms``), or never; no step if none waited."""
    events = s.scheduling[s.scheduling["t_ms"] <= until_ms]
    failed = events[events["kind"] == _FAILED_SCHEDULING]
    if failed.empty:
        return []
    waited = set(failed["pod"])
    bound = events[(events["kind"] == _SCHEDULED) & events["pod"].isin(waited)]
    last = bound.groupby("pod")["t_ms"].max()
    unbound = len(waited - set(last.index))
    why = failed["message"].iloc[-1]
    never = f"capacity: {plural(unbound, 'pod')} Pending, Unschedulable ({why})"
    hint = f"capacity: {plural(len(waited), 'pod')} Pending, Unschedulable ({why})"
    t_ms = int(last.max()) if not unbound else None
    return [Step("pods scheduled", never, t_ms, hint)]


def _in_steps(s: _Scale, reached: int | None) -> list[Step]:
    n, hpa = s.replicas, s.hpa
    if hpa.empty:
        decided = _asked(s, s.deployment["desired"] <= n)
    else:
        floor = hpa["min_replicas"].iloc[-1]
        held_at = f" (its min_replicas is {number_or_dash(floor)})" if floor > n else ""
        decided = [
            Step(
                "CPU below target",
                "CPU never below target",
                first_at(hpa, hpa["metric_value"] < hpa["metric_target"]),
                "metrics lag: metrics resolution and sync period",
            ),
            Step(
                f"HPA decided {plural(n, 'replica')}",
                f"HPA never decided {plural(n, 'replica')}{held_at}",
                _decided(s, hpa["desired"] <= n, lambda size: size <= n),
                "scale-down stabilization window, 300 s by default",
            ),
        ]
    return [*decided, Step(f"down to {count(n)}", "", reached)]


def _asked(s: _Scale, mask: pd.Series) -> list[Step]:
    """The decision step of a Deployment without HPA rows (scaled by hand or an action)."""
    n = plural(s.replicas, "replica")
    asked = first_at(s.deployment, mask)
    return [Step(f"Deployment asked for {n}", f"Deployment never asked for {n}", asked)]


def _decided(s: _Scale, mask: pd.Series, size_ok: Callable[[int], bool]) -> int | None:
    """The first HPA state matching ``mask`` or rescale Event whose new size is ``size_ok``."""
    rescales = s.events[s.events["kind"] == "SuccessfulRescale"]
    sizes = rescales["message"].fillna("").str.extract(_NEW_SIZE, expand=False)
    times = [int(t) for t, size in zip(rescales["t_ms"], sizes, strict=True) if _ok(size, size_ok)]
    found = [t for t in (first_at(s.hpa, mask), *times[:1]) if t is not None]
    return min(found) if found else None


def _ok(size: object, size_ok: Callable[[int], bool]) -> bool:
    return isinstance(size, str) and size_ok(int(size))


def _last_added(s: _Scale, after_ms: int | None, before_ms: int) -> int | None:
    """When the last pod of the Deployment was added in ``[after_ms, before_ms]``."""
    if after_ms is None:
        return None
    pods = s.pods
    t = pods["t_ms"]
    added = pods[(pods["transition"] == PodTransition.ADDED) & (t >= after_ms) & (t <= before_ms)]
    return int(added["t_ms"].iloc[-1]) if len(added) else None


# --- evidence ---------------------------------------------------------------------------------


def _evidence(s: _Scale, end_ms: int) -> list[Evidence]:
    """The HPA's and the Deployment's states and scaling Events up to ``end_ms``, in order."""
    hpa = [Evidence(int(r["t_ms"]), hpa_text(r)) for r in records(s.hpa)]
    deployment = [Evidence(int(r["t_ms"]), _deployment_text(r)) for r in records(s.deployment)]
    events = [
        Evidence(int(r["t_ms"]), f"{r['kind']} {r['name']}: {r['message']}")
        for r in records(s.events)
    ]
    lines = sorted((e for e in (*hpa, *deployment, *events) if e.t_ms <= end_ms), key=_time)
    return capped(lines, "states and events")


def _time(evidence: Evidence) -> int:
    return evidence.t_ms


def _deployment_text(row: dict[str, Any]) -> str:
    return (
        f"Deployment {row['name']}: desired {number_or_dash(row['desired'])}, ready "
        f"{number_or_dash(row['ready'])}, current {number_or_dash(row['current'])}"
    )
