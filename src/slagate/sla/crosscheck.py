"""Client side and server side together: Locust's failure ratio beside Prometheus' error ratio.

For every PromQL SLA on an error-ratio preset, in the SLA's own window: the share of
requests Locust saw fail (its ``endpoints``, or all), and the share of 5xx the server side
counted (the increases of the preset's ``:errors`` and ``:requests`` counters over the
window, resets handled). Prometheus shows a request about a step after Locust saw it (half
a scrape interval and half a step, on average), so the server side's window is the
client's moved one step later; over a whole load (quiet before and after) both sides
count the same requests.
A window shorter than ``MIN_WINDOW_STEPS`` steps (a rollout of two seconds) is compared
over that many steps from its start, on both sides: a counter's increase needs scrapes on
both sides of the requests, and a short window can fall between two scrapes, the more so
when a busy Prometheus scrapes late.
A difference above ``prometheus.cross_check_tolerance`` is flagged with its likely reason.

Pure: reads the timeline only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from slagate.scenario import ERRORS_SUFFIX, PRESETS, REQUESTS_SUFFIX, PromqlSla, Scenario
from slagate.sla.formatting import count
from slagate.sla.promql import series_in, step_ms
from slagate.sla.selecting import endpoint_mask, select
from slagate.sla.verdict import Window
from slagate.sla.windows import anchors_of, window_from
from slagate.timeline import Timeline

CLIENT_MORE = (
    "the client saw failures the server side did not count: requests that never reached a "
    "pod (refused or reset by the proxy or load balancer, e.g. during a rollout), or client "
    "timeouts; compare with the istio_error_ratio preset (reporter=source)"
)
SERVER_MORE = (
    "the server side counted errors the client did not see fail: retries in the data plane "
    "hid them, the client accepts those statuses, or other clients sent the traffic"
)
MIN_WINDOW_STEPS = 5
"""The fewest range-query steps a cross-check compares over (see the module)."""


@dataclass(frozen=True)
class CrossCheck:
    sla_id: str
    window: str
    client_requests: int
    client_ratio: float | None
    """Failed / all requests Locust recorded in the window; None without requests."""

    server_ratio: float | None
    """5xx / all requests the server side counted; None without server-side requests."""

    tolerance: float
    note: str

    @property
    def flagged(self) -> bool:
        if self.client_ratio is None or self.server_ratio is None:
            return False
        return abs(self.server_ratio - self.client_ratio) > self.tolerance

    def to_json(self) -> dict[str, Any]:
        return {
            "sla": self.sla_id,
            "window": self.window,
            "client_requests": self.client_requests,
            "client_ratio": self.client_ratio,
            "server_ratio": self.server_ratio,
            "tolerance": self.tolerance,
            "flagged": self.flagged,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrossCheck:
        return cls(
            sla_id=data["sla"],
            window=data["window"],
            client_requests=int(data["client_requests"]),
            client_ratio=data["client_ratio"],
            server_ratio=data["server_ratio"],
            tolerance=float(data["tolerance"]),
            note=data["note"],
        )


def cross_checks(scenario: Scenario, timeline: Timeline) -> list[CrossCheck]:
    """One cross-check per PromQL SLA on an error-ratio preset whose window began."""
    anchors = anchors_of(timeline)
    found = []
    for spec in scenario.slas:
        if isinstance(spec, PromqlSla) and spec.preset and PRESETS[spec.preset].counts:
            window = window_from(spec.window, anchors, scenario.windows)
            if window is not None:
                window = _comparable(window, step_ms(timeline))
                tolerance = scenario.prometheus.cross_check_tolerance
                found.append(_check(spec, timeline, window, tolerance))
    return found


def _comparable(window: Window, step: int) -> Window:
    """``window``, its end moved later to ``MIN_WINDOW_STEPS`` steps from its start if it
    is shorter."""
    end_ms = max(window.end_ms, window.start_ms + MIN_WINDOW_STEPS * step)
    return replace(window, end_ms=end_ms)


def _check(spec: PromqlSla, timeline: Timeline, window: Window, tolerance: float) -> CrossCheck:
    requests, failures = _client_side(timeline.requests, window, spec.endpoints)
    client = failures / requests if requests else None
    server = _server_ratio(timeline, spec.sla_id, window)
    check = CrossCheck(spec.sla_id, window.label, requests, client, server, tolerance, "")
    return CrossCheck(**{**check.__dict__, "note": _note(check)})


def _client_side(frame: pd.DataFrame, window: Window, endpoints: list[str]) -> tuple[int, int]:
    rows = select(frame, window, None)
    if endpoints:
        mask = np.logical_or.reduce([endpoint_mask(rows, e) for e in endpoints])
        rows = rows[mask]
    return int(rows["requests"].sum()), int(rows["failures"].sum())


def _server_ratio(timeline: Timeline, sla_id: str, window: Window) -> float | None:
    step = step_ms(timeline)
    seen = replace(window, start_ms=window.start_ms + step, end_ms=window.end_ms + step)
    errors = series_in(timeline, sla_id + ERRORS_SUFFIX, seen)
    requests = series_in(timeline, sla_id + REQUESTS_SUFFIX, seen)
    if requests.empty:
        return None
    born_after_ms = int(requests["t_ms"].min()) + step // 2
    total = _increase(requests, born_after_ms)
    return _increase(errors, born_after_ms) / total if total > 0 else None


def _increase(samples: pd.DataFrame, born_after_ms: int) -> float:
    """How much a set of counters grew over the samples given, series by series: the sum
    of their rises, a fall being a reset (a restarted pod counts from zero again). A series
    first seen after ``born_after_ms`` (after the window's first scrape) was born inside
    the window (the first request of a route, a new pod): it counts from zero."""
    total = 0.0
    for _, rows in samples.groupby("series"):
        finite = rows[np.isfinite(rows["value"])]
        values = finite["value"].to_numpy()
        if not len(values):
            continue
        steps = np.diff(values)
        total += float(np.where(steps >= 0, steps, values[1:]).sum())
        if int(finite["t_ms"].iloc[0]) > born_after_ms:
            total += float(values[0])
    return total


def _note(check: CrossCheck) -> str:
    if check.client_ratio is None:
        return "no client-side requests in the window"
    if check.server_ratio is None:
        return "no server-side requests in the window (fetch failed, or no traffic reached it)"
    difference = 100 * (check.server_ratio - check.client_ratio)
    pp = f"{abs(difference):.2f} percentage points"
    seen = f"Locust {100 * check.client_ratio:.2f}% of {count(check.client_requests)} requests"
    compared = f"{seen} vs Prometheus {100 * check.server_ratio:.2f}%"
    if not check.flagged:
        return f"{compared}: within {100 * check.tolerance:g} pp"
    reason = SERVER_MORE if difference > 0 else CLIENT_MORE
    return f"{compared}: differ by {pp} (> {100 * check.tolerance:g} pp): {reason}"
