"""Evidence for failing verdicts: the facts a human checks first, in the order shown.

Pure and vectorised over the window's rows (groupby, masks); Python only touches the
handful of rows that become evidence lines. No clock reads, no logging, no I/O.

For request failures: where the failures cluster (from the exact per-second counts),
a note when the failures table holds fewer rows than were counted (rows are capped per
second by the recorder), the first ``FIRST_FAILURES`` stored failures, and how many more
were stored but not listed. For latency: how many requests were slower than the
threshold and the seconds with the worst per-second percentile.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from slagate.sla.formatting import clock, count, floor_ratio, left_out, number, shorten
from slagate.sla.percentiles import percentile_per_second
from slagate.sla.selecting import seconds_of
from slagate.sla.verdict import Evidence, Window

FIRST_FAILURES = 10
WORST_SECONDS = 5
ERROR_CHARS = 160
BURST_GAP_S = 2  # quiet seconds that still belong to one burst
HOT_SHARE = 10  # a burst's seconds have at least 1/HOT_SHARE of the worst second's failures


# --- request failures -----------------------------------------------------------------------


def failure_evidence(
    per_second: pd.DataFrame, stored: pd.DataFrame, window: Window
) -> tuple[Evidence, ...]:
    """Evidence for failed requests: ``per_second`` are the window's requests rows,
    ``stored`` its failures rows (same window and endpoint)."""
    failures = per_second.groupby("t_s")["failures"].sum()
    failures = failures[failures > 0]
    counted = int(failures.sum())
    if counted == 0:
        return ()
    stored = stored.sort_values("t_ms", kind="stable")
    return (
        _spread(failures, stored, window),
        *_capped(len(stored), counted, window),
        *_first_failures(stored),
    )


def _spread(failures: pd.Series, stored: pd.DataFrame, window: Window) -> Evidence:
    """One line: the burst holding most failures, or how thinly they are spread."""
    seconds, values = failures.index.to_numpy(), failures.to_numpy()
    first_s, last_s = _densest_burst(seconds, values)
    in_burst = int(values[(seconds >= first_s) & (seconds <= last_s)].sum())
    total = int(values.sum())
    first, stop = seconds_of(window)
    if 2 * in_burst >= total and 2 * (last_s - first_s + 1) <= stop - first:
        start_ms, end_ms = _burst_edges(stored, first_s, last_s)
        return Evidence(start_ms, _concentrated(start_ms, end_ms, in_burst, total))
    worst = int(seconds[np.argmax(values)])
    text = (
        f"failures spread over {count(len(seconds))} of {count(stop - first)} seconds; "
        f"at most {count(int(values.max()))} in one second ({clock(worst * 1000, ms=False)} UTC)"
    )
    return Evidence(worst * 1000, text)


def _densest_burst(seconds: np.ndarray, values: np.ndarray) -> tuple[int, int]:
    """First and last second of the run of hot seconds holding the most failures.

    Hot seconds have at least a tenth of the worst second's failures (background noise
    does not stretch a burst); hot seconds at most ``BURST_GAP_S`` apart form one run.
    """
    hot = values >= max(1, -(-int(values.max()) // HOT_SHARE))
    hot_seconds, hot_values = seconds[hot], values[hot]
    run = np.concatenate(([0], np.cumsum(np.diff(hot_seconds) > BURST_GAP_S + 1)))
    best = int(np.argmax(np.bincount(run, weights=hot_values)))
    members = hot_seconds[run == best]
    return int(members[0]), int(members[-1])


def _burst_edges(stored: pd.DataFrame, first_s: int, last_s: int) -> tuple[int, int]:
    """First and last stored failure of the burst; its seconds' edges if none was stored."""
    t_ms = stored["t_ms"]
    inside = t_ms[(t_ms >= first_s * 1000) & (t_ms < (last_s + 1) * 1000)]
    if inside.empty:
        return first_s * 1000, last_s * 1000 + 999
    return int(inside.iloc[0]), int(inside.iloc[-1])


def _concentrated(start_ms: int, end_ms: int, in_burst: int, total: int) -> str:
    when = clock(start_ms) if start_ms == end_ms else f"{clock(start_ms)}-{clock(end_ms)}"
    return f"failures concentrated {when} UTC ({count(in_burst)} of {count(total)})"


def _capped(stored: int, counted: int, window: Window) -> tuple[Evidence, ...]:
    if stored >= counted:
        return ()
    text = (
        f"the failures table holds {count(stored)} of {count(counted)} counted failures "
        "(stored rows are capped per second; counts are exact)"
    )
    return (Evidence(window.start_ms, text),)


def _first_failures(stored: pd.DataFrame) -> tuple[Evidence, ...]:
    shown = stored.head(FIRST_FAILURES)
    lines = [
        Evidence(int(t_ms), _failure_text(method, name, status, error))
        for t_ms, method, name, status, error in shown[
            ["t_ms", "method", "name", "status", "error"]
        ].itertuples(index=False)
    ]
    rest = len(stored) - len(shown)
    if rest > 0:
        lines.append(left_out(int(stored["t_ms"].iloc[len(shown)]), rest, "stored failures"))
    return tuple(lines)


def _failure_text(method: Any, name: Any, status: Any, error: Any) -> str:
    code = "?" if pd.isna(status) else str(int(status))
    text = "" if pd.isna(error) else shorten(str(error), ERROR_CHARS)
    return f"{method} {name} status={code} {text}".rstrip()


# --- latency --------------------------------------------------------------------------------


def latency_evidence(
    histogram: pd.DataFrame, percentile: float, max_ms: float, window: Window
) -> tuple[Evidence, ...]:
    """How many requests were slower than ``max_ms``, then the worst seconds."""
    total = int(histogram["requests"].sum())
    slow = int(histogram.loc[histogram["bucket_ms"] > max_ms, "requests"].sum())
    share = number(floor_ratio(100 * slow, total, 1), 1)
    summary = Evidence(
        window.start_ms,
        f"{count(slow)} of {count(total)} requests ({share}%) took longer than {number(max_ms)} ms",
    )
    return (summary, *_worst_seconds(histogram, percentile))


def _worst_seconds(histogram: pd.DataFrame, percentile: float) -> list[Evidence]:
    per_second = percentile_per_second(histogram, percentile)
    totals = histogram.groupby("t_s")["requests"].sum()
    worst = per_second.reset_index().sort_values(["p", "t_s"], ascending=[False, True])
    label = f"p{percentile:g}"
    return [
        Evidence(
            int(t_s) * 1000,
            f"{clock(int(t_s) * 1000, ms=False)} UTC: {label} {count(int(p))} ms over "
            f"{count(int(totals[t_s]))} requests",
        )
        for t_s, p in worst.head(WORST_SECONDS).itertuples(index=False)
    ]


# --- throughput -----------------------------------------------------------------------------


def throughput_evidence(per_second: pd.DataFrame, window: Window) -> tuple[Evidence, ...]:
    """One line: the quietest and busiest seconds and how many had no request at all."""
    first, stop = seconds_of(window)
    totals = per_second.groupby("t_s")["requests"].sum()
    totals = totals.reindex(range(first, stop), fill_value=0)
    if totals.empty:
        return ()
    quietest = first + int(np.argmin(totals.to_numpy()))
    idle = int((totals == 0).sum())
    text = (
        f"requests per second: lowest {count(int(totals.min()))} "
        f"({clock(quietest * 1000, ms=False)} UTC), highest {count(int(totals.max()))}; "
        f"{count(idle)} of {count(len(totals))} seconds had none"
    )
    return (Evidence(quietest * 1000, text),)
