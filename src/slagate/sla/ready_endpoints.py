"""Ready-endpoints SLAs: a Service's ready endpoints never below ``min`` in the window.

Pure: ``evaluate_ready_endpoints(spec, timeline, window) -> Verdict`` reads only the
timeline; no clients, no clock reads, no logging, no I/O. The ``endpoints`` table holds a row
at every change; the count in force at the window's start counts (``history.in_force``). A
failing verdict lists the spans below ``min`` with the pods ready and terminating then, and
names the likely cause of the window's failed requests (``slagate.sla.diagnosing``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from slagate.scenario import ReadyEndpointsSla
from slagate.sla.building import judged, no_data, window_never_began
from slagate.sla.diagnosing import diagnose, with_diagnosis
from slagate.sla.formatting import capped, clock, count, plural, seconds, versus
from slagate.sla.history import in_force, pod_names
from slagate.sla.verdict import Evidence, Verdict, Window
from slagate.timeline import Timeline


def evaluate_ready_endpoints(
    spec: ReadyEndpointsSla, timeline: Timeline, window: Window | None
) -> Verdict:
    """The lowest ready-endpoint count of ``spec.service`` in the window, at least ``min``."""
    if window is None:
        return window_never_began(spec)
    endpoints = timeline.endpoints
    rows = endpoints[endpoints["service"] == spec.service].sort_values("t_ms", kind="stable")
    states = in_force(rows, window.start_ms, window.end_ms)
    states = states[states["ready"].notna()]
    if states.empty:
        return no_data(spec, window, f"no endpoints recorded for Service {spec.service}")
    lowest = int(states["ready"].min())
    ok = lowest >= spec.min
    message = (
        f"{spec.service} ready endpoints min {count(lowest)} {versus(ok, at_least=True)} "
        f"{count(spec.min)} in {window.label}"
    )
    if ok:
        return judged(spec, ok, float(lowest), window, message)
    spans = _spans_below(states, spec.min)
    below_s = sum(s.end_ms - s.start_ms for s in spans) / 1000
    message += f": below {count(spec.min)} for {seconds(below_s)} in {plural(len(spans), 'span')}"
    lines = capped([_span_evidence(s, spec.min) for s in spans], "spans")
    diagnosis = diagnose(
        timeline.failures, timeline.pods, endpoints, window, timeline.info.sandbox_profile
    )
    message, evidence = with_diagnosis(message, lines, diagnosis)
    return judged(spec, ok, float(lowest), window, message, evidence)


class Below(NamedTuple):
    """A run of states below the minimum (epoch ms) and its lowest state's pods."""

    start_ms: int
    end_ms: int
    ready: int
    ready_pods: str
    terminating_pods: str


def _spans_below(states: pd.DataFrame, minimum: int) -> list[Below]:
    """Runs of consecutive states below ``minimum``, each with its (first) lowest state."""
    below = states["ready"] < minimum
    run = (below != below.shift()).cumsum()
    spans = []
    for _, group in states[below].groupby(run[below], sort=True):
        lowest = group.iloc[int(np.argmin(group["ready"].to_numpy()))]
        start, end = int(group["t_ms"].iloc[0]), int(group["until_ms"].iloc[-1])
        pods = (_pods(lowest["ready_pods"]), _pods(lowest["terminating_pods"]))
        spans.append(Below(start, end, int(lowest["ready"]), *pods))
    return spans


def _span_evidence(span: Below, minimum: int) -> Evidence:
    text = (
        f"{clock(span.start_ms)}-{clock(span.end_ms)} UTC "
        f"({seconds((span.end_ms - span.start_ms) / 1000)}): {count(span.ready)} ready < "
        f"{count(minimum)}; ready: {span.ready_pods}; terminating: {span.terminating_pods}"
    )
    return Evidence(span.start_ms, text)


def _pods(names: object) -> str:
    listed = sorted(pod_names(names))
    return ", ".join(listed) if listed else "none"
