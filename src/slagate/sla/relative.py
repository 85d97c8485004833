"""Relative SLAs: a bound that is a ratio to the same measurement on a baseline run.

Pure: ``judge_relative`` reads the two timelines it is given; no clients, no clock reads,
no logging, no I/O (finding the baseline run folder is the caller's job). It adds no
second implementation of any measurement: the SLA's own evaluator measures the baseline
run (in the same named window, resolved on the baseline's own timeline), the ratio times
that value becomes an absolute bound (``with_bound``), and the same evaluator judges the
new run against it. A ratio ``max_ratio_to_baseline: 1.2`` on a baseline p95 of 50 ms is
thus exactly ``max_ms: 60``.

No baseline run, or a baseline that measured nothing (no requests in the window, a
rollout that never settled), is ``no-data``: never a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from slagate.scenario import WindowSpan
from slagate.sla.building import verdict
from slagate.sla.verdict import Status, Verdict, Window, value_text
from slagate.sla.windows import anchors_of, window_from
from slagate.timeline import Timeline

BOUND_PLACES = 3  # a bound derived from a ratio, rounded: 60.0 ms, not 60.00000000000001
MEASURING = 0.0  # the bound the baseline is measured with: its verdict's value, not its status


@dataclass(frozen=True)
class Baseline:
    """The run relative SLAs are judged against: its id and timeline, or, when none was
    found, ``missing`` saying why (e.g. "no passing run of smoke under reports")."""

    run_id: str = ""
    timeline: Timeline | None = None
    missing: str = "no --baseline given"


def judge_relative(
    spec: Any,
    evaluate: Callable[[Any, Timeline, Window | None], Verdict],
    timeline: Timeline,
    window: Window | None,
    baseline: Baseline | None,
    named: Mapping[str, WindowSpan],
) -> Verdict:
    """The verdict of a relative SLA (``spec.ratio`` set) on ``timeline``."""
    label = window.label if window is not None else spec.window_label
    if baseline is None or baseline.timeline is None:
        why = baseline.missing if baseline is not None else Baseline().missing
        return _no_baseline(spec, label, f"no baseline run to compare with ({why})")
    base_window = window_from(spec.window, anchors_of(baseline.timeline), named)
    base = evaluate(spec.with_bound(MEASURING), baseline.timeline, base_window)
    if base.measured is None:
        what = f"the baseline run {baseline.run_id} measured nothing: {base.message}"
        return _no_baseline(spec, label, what)
    ratio = float(spec.ratio)
    judged = evaluate(spec.with_bound(round(base.measured * ratio, BOUND_PLACES)), timeline, window)
    source = f"{ratio:g} x {value_text(base.measured, base.unit)} in baseline {baseline.run_id}"
    return replace(judged, message=f"{judged.message} (bound: {source})")


def _no_baseline(spec: Any, label: str, what: str) -> Verdict:
    message = f"no data: {what}; relative SLAs need --baseline RUN_DIR or --baseline latest-pass"
    return verdict(spec, Status.NO_DATA, None, label, message)
