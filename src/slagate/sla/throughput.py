"""Throughput SLAs: mean requests per second over the window at least ``min_rps``.

Pure: ``evaluate_throughput(spec, timeline, window) -> Verdict`` reads only the timeline; no
clients, no clock reads, no logging, no I/O. The divisor is the window's own duration, so a
load window cut short by a killed run is judged over the time it actually lasted.
"""

from __future__ import annotations

from slagate.scenario import ThroughputSla
from slagate.sla.building import judged, window_never_began
from slagate.sla.evidence import throughput_evidence
from slagate.sla.formatting import count, floor_ratio, number, places_of, versus
from slagate.sla.selecting import select
from slagate.sla.traffic import no_traffic, subject
from slagate.sla.verdict import Verdict, Window
from slagate.timeline import Timeline

RPS_PLACES = 2  # at least; more when the threshold itself has more decimals


def evaluate_throughput(spec: ThroughputSla, timeline: Timeline, window: Window | None) -> Verdict:
    """``requests / window seconds`` at least ``spec.bound``, rounded down to 2 decimals."""
    if window is None:
        return window_never_began(spec)
    rows = select(timeline.requests, window, spec.endpoint)
    total = int(rows["requests"].sum())
    if total == 0:
        return no_traffic(spec, window, timeline.requests)
    places = places_of(spec.bound, RPS_PLACES)
    measured = floor_ratio(total * 1000, window.end_ms - window.start_ms, places)
    ok = measured >= spec.bound
    message = (
        f"{subject(spec, 'throughput')} {number(measured, places)} rps {versus(ok, at_least=True)} "
        f"{number(spec.bound)} rps in {window.label}: {count(total)} requests in "
        f"{number(window.duration_s, 1)} s"
    )
    evidence = () if ok else throughput_evidence(rows, window)
    return judged(spec, ok, measured, window, message, evidence)
