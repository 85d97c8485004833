"""Selecting the rows of a timeline table that an SLA looks at: a window and an endpoint.

Pure and vectorised: one boolean mask per call, never a Python loop over rows.

A per-second row ``t_s`` is inside a window when ``start_ms <= t_s * 1000 < end_ms``
(docs/contracts.md). A failure row (``t_ms``) is inside when its second is, so the stored
failures of a window are exactly the ones its per-second counts include.

An endpoint is a Locust name (``/orders/[id]``) or ``METHOD name`` (``GET /orders/[id]``):
a row matches when its name equals the endpoint, or its method and name, joined by one
space, do. A name that itself contains spaces therefore still matches as a plain name.
"""

from __future__ import annotations

import pandas as pd

from slagate.sla.verdict import Window

KNOWN_ENDPOINTS_SHOWN = 5


def seconds_of(window: Window) -> tuple[int, int]:
    """The per-second buckets ``[first, stop)`` whose ``t_s`` lies inside ``window``."""
    return -(-window.start_ms // 1000), -(-window.end_ms // 1000)


def select(
    frame: pd.DataFrame, window: Window, endpoint: str | None, *, time: str = "t_s"
) -> pd.DataFrame:
    """Rows of ``frame`` inside ``window`` for ``endpoint`` (all endpoints when ``None``).

    ``time`` is ``"t_s"`` for per-second tables or ``"t_ms"`` for the failures table.
    """
    first, stop = seconds_of(window)
    seconds = frame[time] if time == "t_s" else frame[time] // 1000
    mask = (seconds >= first) & (seconds < stop)
    if endpoint:
        mask &= endpoint_mask(frame, endpoint)
    return frame[mask]


def endpoint_mask(frame: pd.DataFrame, endpoint: str) -> pd.Series:
    """Which rows of ``frame`` (with ``method`` and ``name``) belong to ``endpoint``."""
    mask = frame["name"] == endpoint
    method, _, name = endpoint.partition(" ")
    if name:
        mask |= (frame["method"] == method) & (frame["name"] == name)
    return mask.fillna(False).astype(bool)


def known_endpoints(frame: pd.DataFrame) -> str:
    """A few endpoints recorded in ``frame``, for a message about a mistyped endpoint."""
    pairs = frame[["method", "name"]].drop_duplicates().sort_values(["name", "method"])
    shown = [f"{m} {n}" for m, n in pairs.head(KNOWN_ENDPOINTS_SHOWN).itertuples(index=False)]
    more = len(pairs) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "") if shown else "none"


def scope_text(endpoint: str | None) -> str:
    """Words for what an SLA covers: ``"requests to GET /orders"`` or ``"requests"``."""
    return f"requests to {endpoint}" if endpoint else "requests"
