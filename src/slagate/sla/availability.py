"""Availability and failed-request SLAs: judged from the exact per-second request counts.

Pure: ``evaluate_*(spec, timeline, window) -> Verdict`` reads only the timeline; no clients,
no clock reads, no logging, no I/O. A window without a single request is no-data. A failing
verdict names the likely cause when the failures follow pod terminations or joins
(``slagate.sla.diagnosing``); without pods rows there is no diagnosis.
"""

from __future__ import annotations

import pandas as pd

from slagate.scenario import AvailabilitySla, FailedRequestsSla
from slagate.sla.building import judged, window_never_began
from slagate.sla.diagnosing import diagnose, with_diagnosis
from slagate.sla.evidence import failure_evidence
from slagate.sla.formatting import count, floor_ratio, number, places_of, versus
from slagate.sla.selecting import select
from slagate.sla.traffic import no_traffic, subject
from slagate.sla.verdict import Evidence, Verdict, Window
from slagate.timeline import Timeline

PERCENT_PLACES = 3  # at least; more when the threshold itself has more decimals


def evaluate_availability(
    spec: AvailabilitySla, timeline: Timeline, window: Window | None
) -> Verdict:
    """``100 * (requests - failures) / requests`` at least ``spec.bound``.

    The measured value is rounded down to 3 decimals (more if the threshold has more), so
    it never prints as passing when it does not.
    """
    if window is None:
        return window_never_began(spec)
    rows = select(timeline.requests, window, spec.endpoint)
    total, failed = int(rows["requests"].sum()), int(rows["failures"].sum())
    if total == 0:
        return no_traffic(spec, window, timeline.requests)
    places = places_of(spec.bound, PERCENT_PLACES)
    measured = floor_ratio(100 * (total - failed), total, places)
    ok = measured >= spec.bound
    message = (
        f"{subject(spec, 'availability')} {number(measured, places)}% {versus(ok, at_least=True)} "
        f"{number(spec.bound)}% in {window.label}: {_failed_of(failed, total)}"
    )
    evidence: tuple[Evidence, ...] = ()
    if not ok:
        message, evidence = _explained(message, timeline, rows, spec.endpoint, window)
    return judged(spec, ok, measured, window, message, evidence)


def evaluate_failed_requests(
    spec: FailedRequestsSla, timeline: Timeline, window: Window | None
) -> Verdict:
    """At most ``spec.max`` failed requests (no requests at all is no-data, not zero)."""
    if window is None:
        return window_never_began(spec)
    rows = select(timeline.requests, window, spec.endpoint)
    total, failed = int(rows["requests"].sum()), int(rows["failures"].sum())
    if total == 0:
        return no_traffic(spec, window, timeline.requests)
    ok = failed <= spec.max
    message = (
        f"{subject(spec, 'failed requests')} {count(failed)} {versus(ok)} "
        f"{count(spec.max)} in {window.label}: {_failed_of(failed, total)}"
    )
    evidence: tuple[Evidence, ...] = ()
    if not ok:
        message, evidence = _explained(message, timeline, rows, spec.endpoint, window)
    return judged(spec, ok, float(failed), window, message, evidence)


def _failed_of(failed: int, total: int) -> str:
    noun = "request" if total == 1 else "requests"
    return f"{count(failed)} of {count(total)} {noun} failed"


def _explained(
    message: str, timeline: Timeline, rows: pd.DataFrame, endpoint: str | None, window: Window
) -> tuple[str, tuple[Evidence, ...]]:
    """The failing ``message`` and its evidence, with the likely cause when there is one."""
    stored = select(timeline.failures, window, endpoint, time="t_ms")
    diagnosis = diagnose(
        stored, timeline.pods, timeline.endpoints, window, timeline.info.sandbox_profile
    )
    return with_diagnosis(message, failure_evidence(rows, stored, window), diagnosis)
