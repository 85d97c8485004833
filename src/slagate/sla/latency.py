"""Latency SLAs: a percentile of the window's latency histogram at most ``max_ms``.

Pure: ``evaluate_latency(spec, timeline, window) -> Verdict`` reads only the timeline; no
clients, no clock reads, no logging, no I/O. The percentile comes from the ``latency``
table summed over the window (never from averaging per-second percentiles), the way
Locust computes it (see ``slagate.sla.percentiles``).
"""

from __future__ import annotations

from slagate.scenario import LatencySla
from slagate.sla.building import judged, window_never_began
from slagate.sla.evidence import latency_evidence
from slagate.sla.formatting import count, number, versus
from slagate.sla.percentiles import locust_percentile
from slagate.sla.selecting import select
from slagate.sla.traffic import no_traffic, subject
from slagate.sla.verdict import Verdict, Window
from slagate.timeline import Timeline


def evaluate_latency(spec: LatencySla, timeline: Timeline, window: Window | None) -> Verdict:
    """``p<percentile>`` over the window at most ``spec.bound`` milliseconds."""
    if window is None:
        return window_never_began(spec)
    histogram = select(timeline.latency, window, spec.endpoint)
    by_bucket = histogram.groupby("bucket_ms")["requests"].sum()
    measured = locust_percentile(by_bucket, spec.percentile)
    if measured is None:
        return no_traffic(spec, window, timeline.latency, histogram=True)
    total = int(by_bucket[by_bucket > 0].sum())
    ok = measured <= spec.bound
    what = subject(spec, f"p{spec.percentile:g} latency")
    message = f"{what} {count(measured)} ms {versus(ok)} {number(spec.bound)} ms in {window.label}"
    if ok:
        message += f" over {count(total)} requests"
        return judged(spec, ok, float(measured), window, message)
    evidence = latency_evidence(histogram, spec.percentile, spec.bound, window)
    return judged(spec, ok, float(measured), window, message, evidence)
