"""Latency percentiles from bucketed histograms, computed exactly as Locust computes them.

Pure and vectorised. Locust's ``calculate_response_time_percentile`` walks the buckets from
the slowest down and returns the first bucket ``b`` with ``count(< b) <= int(N * p)``: the
bucket holding the ``int(N * p) + 1``-th fastest request (capped at the slowest). That is
textbook nearest rank except when ``N * p`` is a whole number, where Locust takes the next
rank: 20 requests, p95 -> the 20th, not the 19th. We follow Locust so that a window's
percentile agrees with the per-second ones the recorder stores and with Locust's own UI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def locust_percentile(histogram: pd.Series, percentile: float) -> int | None:
    """The ``percentile`` (0-100] of ``histogram`` (count by bucket_ms); None when empty."""
    counts = histogram[histogram > 0].groupby(level=0).sum().sort_index()
    if counts.empty:
        return None
    rank = int(int(counts.sum()) * (percentile / 100))
    below = np.cumsum(counts.to_numpy()) - counts.to_numpy()
    index = int(np.searchsorted(below, rank, side="right")) - 1
    return int(counts.index[index])


def percentile_per_second(histogram: pd.DataFrame, percentile: float) -> pd.Series:
    """Locust's ``percentile`` for each second of a latency table slice, named ``p``.

    ``histogram`` has ``t_s``, ``bucket_ms`` and ``requests`` (several endpoints or workers
    per second are summed first). Seconds without any request are left out.
    """
    per_bucket = (
        histogram[histogram["requests"] > 0].groupby(["t_s", "bucket_ms"])["requests"].sum()
    )
    frame = per_bucket.reset_index()
    by_second = frame.groupby("t_s")["requests"]
    rank = np.floor(by_second.transform("sum") * (percentile / 100))
    below = by_second.cumsum() - frame["requests"]
    eligible = frame[below <= rank]
    worst: pd.Series = eligible.groupby("t_s")["bucket_ms"].max()
    return worst.rename("p")
