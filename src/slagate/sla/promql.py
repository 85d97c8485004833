"""PromQL SLAs: a fetched series reduced over the window and compared with the threshold.

Pure: reads the ``metrics`` table (samples filed under the SLA's id), the ``events`` table
(``metrics_failed``) and run.json's ``prometheus`` (the step); no client, no clock, no I/O.

No data is never a pass. The verdict is no-data, with the reason in its message, when:

- the query could not be fetched (Prometheus unreachable, the query refused);
- it returned no sample inside the window or its lag (an empty result);
- every sample inside the window is NaN (a ratio of zero requests: 0/0);
- a series went stale inside the window: once it had samples, none for longer than
  ``STALE_STEPS`` steps before the window ended (a scrape target gone, Prometheus
  stopped). A series may start late (a new pod). A NaN sample is a sample: it says "no
  value now", not "no data".

Prometheus sees an event late (a scrape later, a scrape more for a series the event
creates): a window's samples are read up to run.json's ``prometheus.lag_s`` past its end,
so that failures in its last seconds count. Samples after the window may also be of what
happened after it, which can lower an average, a percentile or a last value, or raise a
max that must stay above a line: so the SLA is judged on both spans, the window alone and
the window with the lag, and fails if either fails. The start stays: a ``rate()`` at the
window's start already looks back over its range.

An SLA declared ``optional`` keeps its no-data status but does not fail the gate.
Several series are judged one by one; the worst decides (the largest for ``<``/``<=``, the
smallest for ``>``/``>=``), and the others are listed as evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from slagate.scenario import LAG_STEPS, PromqlSla
from slagate.sla.building import judged, no_data, window_never_began
from slagate.sla.formatting import clock, shorten
from slagate.sla.verdict import Evidence, Status, Verdict, Window, value_text
from slagate.timeline import EventKind, Timeline

STALE_STEPS = 5
MIN_STALE_MS = 5_000
SERIES_SHOWN = 10

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
}
NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!="}


@dataclass(frozen=True)
class Reduced:
    """One series of the window reduced to one value; ``at_ms`` where it was (max/min/last)."""

    labels: str
    value: float
    at_ms: int


def evaluate_promql(spec: PromqlSla, timeline: Timeline, window: Window | None) -> Verdict:
    if window is None:
        return _optional(spec, window_never_began(spec))
    problem = fetch_problem(timeline, spec.sla_id)
    if problem is not None:
        what = f"the query could not be fetched ({problem})"
        return _optional(spec, no_data(spec, window, what))
    lag = lag_ms(timeline)
    samples = series_in(timeline, spec.sla_id, replace(window, end_ms=window.end_ms + lag))
    gap = _no_data_reason(samples, window, _stale_after_ms(timeline))
    if gap is not None:
        return _optional(spec, no_data(spec, window, gap))
    judged_spans = [_judge(spec, window, _reduced(spec, samples), lag)]
    inside = samples[samples["t_ms"] < window.end_ms]
    if lag and np.isfinite(inside["value"]).any():
        judged_spans.append(_judge(spec, window, _reduced(spec, inside), 0))
    failed = [v for v in judged_spans if v.status is Status.FAIL]
    return failed[0] if failed else judged_spans[0]


def _reduced(spec: PromqlSla, samples: pd.DataFrame) -> list[Reduced]:
    """Each series with a finite sample, reduced (a series of NaN only has no value)."""
    return [
        _reduce(spec, str(labels), rows)
        for labels, rows in samples.groupby("series")
        if np.isfinite(rows["value"]).any()
    ]


def fetch_problem(timeline: Timeline, query_id: str) -> str | None:
    """Why the query filed under ``query_id`` could not be fetched, if its latest fetch
    failed (a later successful re-fetch clears an earlier failure)."""
    events = timeline.events
    outcomes = events[
        events["kind"].isin([EventKind.METRICS_FETCHED, EventKind.METRICS_FAILED])
        & (events["name"] == query_id)
    ].sort_values("t_ms", kind="stable")
    if outcomes.empty or outcomes["kind"].iloc[-1] != EventKind.METRICS_FAILED:
        return None
    return str(outcomes["message"].iloc[-1])


def series_in(timeline: Timeline, query_id: str, window: Window) -> pd.DataFrame:
    """The samples of ``query_id`` inside ``window`` (``start_ms <= t_ms < end_ms``), each
    once even when fetched twice."""
    metrics = timeline.metrics
    t = metrics["t_ms"]
    mask = (metrics["query"] == query_id) & (t >= window.start_ms) & (t < window.end_ms)
    rows = metrics[mask].drop_duplicates(["t_ms", "series"], keep="last")
    return rows.sort_values("t_ms", kind="stable")


def step_ms(timeline: Timeline) -> int:
    """The range queries' step (1 s when run.json does not say)."""
    info = timeline.info.prometheus
    return round(1000 * info.step_s) if info is not None else 1000


def lag_ms(timeline: Timeline) -> int:
    """How long after an event Prometheus may show it (see the module)."""
    info = timeline.info.prometheus
    if info is not None and info.lag_s is not None:
        return round(1000 * info.lag_s)
    return LAG_STEPS * step_ms(timeline)


def _stale_after_ms(timeline: Timeline) -> int:
    return max(STALE_STEPS * step_ms(timeline), MIN_STALE_MS)


def _no_data_reason(samples: pd.DataFrame, window: Window, stale_ms: int) -> str | None:
    if samples.empty:
        return "the query returned no samples"
    if not np.isfinite(samples["value"]).any():
        return "every sample is NaN (a ratio of zero requests, 0/0?)"
    for labels, rows in samples.groupby("series"):
        stale = _stale_at(rows["t_ms"].to_numpy(), window, stale_ms)
        if stale is not None:
            hole = f"no sample for over {stale_ms / 1000:g} s"
            return f"series {labels} went stale at {clock(stale)} UTC ({hole})"
    return None


def _stale_at(times: np.ndarray, window: Window, stale_ms: int) -> int | None:
    """Where a series stops for longer than ``stale_ms`` before the window ends. A series
    may start late in the window (a new pod, a rate() filling its range): that is not
    stale; one that stops, or pauses, is. Samples in the lag after the window are welcome,
    not required: the run's own window ends after its last fetch."""
    edges = np.sort(np.concatenate((times, [window.end_ms])))
    gaps = np.diff(edges)
    holes = np.flatnonzero(gaps > stale_ms)
    return int(edges[holes[0]]) if len(holes) else None


def _reduce(spec: PromqlSla, labels: str, rows: pd.DataFrame) -> Reduced:
    finite = rows[np.isfinite(rows["value"])]
    values = finite["value"].to_numpy()
    times = finite["t_ms"].to_numpy()
    how = spec.reduction
    if how in ("max", "min"):
        index = int(np.argmax(values) if how == "max" else np.argmin(values))
        return Reduced(labels, float(values[index]), int(times[index]))
    if how == "last":
        return Reduced(labels, float(values[-1]), int(times[-1]))
    if how == "avg":
        return Reduced(labels, float(np.mean(values)), int(times[-1]))
    return Reduced(labels, float(np.percentile(values, int(how[1:]))), int(times[-1]))


def _judge(spec: PromqlSla, window: Window, reduced: list[Reduced], lag: int) -> Verdict:
    op, threshold = spec.comparison, spec.threshold[0]
    larger_is_worse = op in ("<", "<=")
    ordered = sorted(reduced, key=lambda r: r.value, reverse=larger_is_worse)
    breaching = [r for r in ordered if not OPS[op](r.value, threshold)]
    worst = breaching[0] if breaching else ordered[0]
    ok = not breaching
    unit = spec.threshold[1]
    word = op if ok else NEGATED[op]
    where = f" ({worst.labels} at {clock(worst.at_ms)} UTC)" if len(reduced) > 1 or not ok else ""
    message = (
        f"{spec.reduction} {value_text(worst.value, unit)} {word} "
        f"{value_text(threshold, unit)} in {window.label}{_lag_text(lag)}{where}"
    )
    evidence = [
        Evidence(r.at_ms, shorten(f"{r.labels}: {spec.reduction} {value_text(r.value, unit)}", 300))
        for r in ordered[:SERIES_SHOWN]
    ]
    return _optional(spec, judged(spec, ok, worst.value, window, message, evidence))


def _lag_text(lag: int) -> str:
    return f" +{lag / 1000:g} s lag" if lag else ""


def _optional(spec: PromqlSla, verdict: Verdict) -> Verdict:
    return replace(verdict, optional=spec.optional)
