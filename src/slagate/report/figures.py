"""Plotly figures (as plain figure JSON) of a run's timeline, on one shared time axis.

Pure: figures are built from the timeline's DataFrames and ``run.json`` windows only; no
plotly import, no I/O, no clock reads. Every chart shares the x axis "seconds after load
start" (run start when the load never began) and the same range, shows the named windows
as shaded bands and harness events and pod deletions as vertical markers.

Text that came from the target or the cluster (endpoint, pod and Service names, event
messages, label values) enters a figure through ``plotly_text``: control characters written
as escapes, then HTML-escaped, since Plotly renders a subset of HTML in trace names and
hover text and decodes entities back, so names display as written.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from slagate.sla.formatting import clock, printable, shorten
from slagate.sla.percentiles import percentile_per_second
from slagate.sla.replicas import metric_text
from slagate.timeline import Timeline

Figure = dict[str, Any]  # plotly figure JSON: {"data": [...], "layout": {...}}

MAX_POINTS = 3600  # per trace; longer per-second series are averaged (maxed) into bins
HOLD_GRID_POINTS = 300  # per state trace (replicas, endpoints): held values for hover
MARKER_KINDS = (
    "load_start",
    "load_stop",
    "action_start",
    "rollout_complete",
    "rollout_settled",
    "action_failed",
    "rollback_start",
    "rollback_end",
    "abort",
    "watch_gap",
    "api_slow",
)
HIDDEN_WINDOWS = ("run",)
WINDOW_ORDER = (
    "load",
    "steady",
    "rollout",
    "rollout (unfinished)",
    "cooldown",
)  # spans the whole axis: a band would only tint everything
BAND_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2")
HOVER_TEXT_MAX = 160
SPIKES = {
    "showspikes": True,
    "spikemode": "across",
    "spikesnap": "cursor",
    "spikethickness": 1,
    "spikedash": "solid",
    "spikecolor": "#888888",
}
"""A vertical line through the hovered instant; the report shows the same instant's
values on every chart (``hovermode`` ``x unified``, synchronised by the page's script)."""
_MARKER_AXIS = "y9"  # a hidden [0, 1] axis overlaying each chart, for event markers


@dataclass(frozen=True)
class Axis:
    """The shared time axis: seconds after ``origin_ms``, shown from ``start_s`` to ``end_s``."""

    origin_ms: int
    start_s: float
    end_s: float
    title: str

    def at(self, t_ms: float) -> float:
        return round((t_ms - self.origin_ms) / 1000.0, 3)


@dataclass(frozen=True)
class Band:
    """A named window, in seconds on the shared axis."""

    name: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Marker:
    """A vertical marker: a harness event (``event``) or a pod deletion (``pod``)."""

    t_s: float
    group: str
    text: str


@dataclass(frozen=True)
class Decor:
    """What every chart overlays on its data: window bands and event markers."""

    bands: tuple[Band, ...]
    markers: tuple[Marker, ...]


@dataclass(frozen=True)
class Chart:
    """One chart of the report: a figure, or ``None`` with a note saying why it is absent."""

    key: str
    title: str
    figure: Figure | None
    note: str = ""


def axis_of(timeline: Timeline, origin_ms: int | None, run_span: tuple[int, int] | None) -> Axis:
    """The shared axis: from the run (else the data) start to its end, zero at ``origin_ms``."""
    span = run_span if run_span is not None else timeline.data_span_ms()
    start, end = span if span is not None else (origin_ms or 0, origin_ms or 0)
    origin = origin_ms if origin_ms is not None else start
    title = "seconds after load start" if origin_ms is not None else "seconds after run start"
    return Axis(
        origin, (start - origin) / 1000.0, max(end - origin, start - origin) / 1000.0, title
    )


def decor_of(timeline: Timeline, windows: Mapping[str, tuple[int, int]], axis: Axis) -> Decor:
    """Window bands (``run`` left out) and markers of harness events and pod deletions."""
    shown = sorted((n for n in windows if n not in HIDDEN_WINDOWS), key=_window_rank)
    bands = tuple(Band(n, axis.at(windows[n][0]), axis.at(windows[n][1])) for n in shown)
    return Decor(bands, _event_markers(timeline.events, axis) + _pod_markers(timeline.pods, axis))


def charts_of(timeline: Timeline, axis: Axis, decor: Decor) -> tuple[Chart, ...]:
    """Traffic, latency and, when the cluster was watched, replicas and endpoints."""
    return (
        traffic_chart(timeline.requests, axis, decor),
        latency_chart(timeline.latency, timeline.requests, axis, decor),
        replicas_chart(timeline.replicas, axis, decor),
        endpoints_chart(timeline.endpoints, axis, decor),
    )


# --- the charts -----------------------------------------------------------------------------


def traffic_chart(requests: pd.DataFrame, axis: Axis, decor: Decor) -> Chart:
    title = "Requests and failures per second (all endpoints)"
    requests = requests.dropna(subset=["t_s"])  # a row without its second has no place
    if requests.empty:
        return Chart("traffic", title, None, "no requests recorded")
    per_s = requests.groupby("t_s")[["requests", "failures"]].sum().astype(float)
    full = range(int(per_s.index.min()), int(per_s.index.max()) + 1)
    per_s = _binned(per_s.reindex(full, fill_value=0.0), "mean")
    x = _seconds(per_s.index, axis)
    traces = [
        _line(x, per_s["requests"], "requests/s", "#4c78a8"),
        _line(x, per_s["failures"], "failures/s", "#e45756"),
    ]
    return Chart("traffic", title, figure_of(traces, axis, decor, "per second"))


def latency_chart(latency: pd.DataFrame, requests: pd.DataFrame, axis: Axis, decor: Decor) -> Chart:
    """p95 of every request of each second, from the histogram (else the worst endpoint's)."""
    title = "p95 latency per second (all endpoints)"
    if not latency.empty:
        p95 = percentile_per_second(latency, 95).astype(float)
    elif not requests.empty:
        p95 = requests.groupby("t_s")["latency_p95_ms"].max().astype(float)
        title = "p95 latency per second (worst endpoint)"
    else:
        return Chart("latency", title, None, "no latency recorded")
    binned = _binned(p95.to_frame("p95"), "max")
    trace = _line(_seconds(binned.index, axis), binned["p95"], "p95 ms", "#f58518")
    return Chart("latency", title, figure_of([trace], axis, decor, "ms"))


def replicas_chart(replicas: pd.DataFrame, axis: Axis, decor: Decor) -> Chart:
    title = "Replicas: HPA desired/current, Deployment ready; HPA metric vs target"
    rows = replicas[replicas["kind"].isin(["HorizontalPodAutoscaler", "Deployment"])]
    if rows.empty:
        return Chart("replicas", title, None, "no HPA or Deployment recorded (no cluster)")
    traces: list[dict[str, Any]] = []
    for name, hpa in _by_name(rows[rows["kind"] == "HorizontalPodAutoscaler"]):
        traces.append(_step(hpa, "desired", axis, f"HPA {name} desired"))
        traces.append(_step(hpa, "current", axis, f"HPA {name} current", dash="dot"))
        metric = metric_text(_last_name(hpa))
        traces.append(_step(hpa, "metric_value", axis, f"HPA {name} {metric} %", y2=True))
        traces.append(_step(hpa, "metric_target", axis, f"HPA {name} target %", True, "dash"))
    for name, deployment in _by_name(rows[rows["kind"] == "Deployment"]):
        traces.append(_step(deployment, "ready", axis, f"Deployment {name} ready"))
    figure = figure_of([t for t in traces if t["x"]], axis, decor, "replicas")
    figure["layout"]["yaxis2"] = {
        "title": {"text": "HPA metric % (of request or target value)"},
        "overlaying": "y",
        "side": "right",
        "rangemode": "tozero",
        "showgrid": False,
    }
    return Chart("replicas", title, figure)


def endpoints_chart(endpoints: pd.DataFrame, axis: Axis, decor: Decor) -> Chart:
    title = "Ready and terminating endpoints per Service"
    if endpoints.empty:
        return Chart("endpoints", title, None, "no endpoints recorded (no cluster)")
    traces: list[dict[str, Any]] = []
    for name, service in _by_name(endpoints, "service"):
        traces.append(_step(service, "ready", axis, f"{name} ready"))
        traces.append(_step(service, "terminating", axis, f"{name} terminating", dash="dot"))
    return Chart("endpoints", title, figure_of(traces, axis, decor, "endpoints"))


# --- series ---------------------------------------------------------------------------------


def _binned(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    """At most ``MAX_POINTS`` rows: consecutive seconds averaged (or maxed) into bins."""
    if len(frame) <= MAX_POINTS:
        return frame
    size = math.ceil(len(frame) / MAX_POINTS)
    seconds = frame.index.to_numpy()
    keys = seconds[0] + (seconds - seconds[0]) // size * size
    binned: pd.DataFrame = frame.groupby(keys).agg(how)
    return binned


def _seconds(t_s: Sequence[int] | pd.Index, axis: Axis) -> list[float]:
    return [axis.at(int(t) * 1000) for t in t_s]


def _values(series: pd.Series) -> list[float | None]:
    return [round(float(v), 3) if _finite(v) else None for v in series]


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not pd.isna(value) and math.isfinite(value)


def _last_name(hpa: pd.DataFrame) -> str | None:
    """The HPA's latest recorded ``metric_name`` (None in runs recorded before it)."""
    if "metric_name" not in hpa.columns:
        return None
    names = hpa["metric_name"].dropna()
    return str(names.iloc[-1]) if len(names) else None


def _by_name(rows: pd.DataFrame, column: str = "name") -> list[tuple[str, pd.DataFrame]]:
    ordered = rows.sort_values("t_ms", kind="stable")
    return [(plotly_text(str(name)), group) for name, group in ordered.groupby(column, sort=True)]


def _step_points(rows: pd.DataFrame, column: str) -> pd.Series:
    """The column's value at every change, the last one per second, at most ``MAX_POINTS``."""
    values = rows.set_index("t_ms")[column].dropna()
    per_second = values.groupby(values.index // 1000 * 1000).last()
    if len(per_second) > MAX_POINTS:
        size = math.ceil(len(per_second) / MAX_POINTS) * 1000
        per_second = per_second.groupby(per_second.index // size * size).last()
    return per_second


def _held(points: pd.Series, axis: Axis) -> pd.Series:
    """``points`` (value at each change, by ``t_ms``) plus the value held at every step of
    a grid of at most ``HOLD_GRID_POINTS`` over the axis (1 s apart at the finest): hover
    picks the nearest point, and without the grid a state held for minutes would show the
    value of its next change."""
    if points.empty:
        return points
    step_ms = max(1000, math.ceil((axis.end_s - axis.start_s) * 1000 / HOLD_GRID_POINTS))
    start_ms = axis.origin_ms + round(axis.start_s * 1000)
    grid = pd.Index(range(start_ms, axis.origin_ms + round(axis.end_s * 1000), step_ms))
    grid = grid[(grid > points.index[0]) & ~grid.isin(points.index)]
    held = points.reindex(points.index.union(grid)).ffill()
    return held


def _step(
    rows: pd.DataFrame, column: str, axis: Axis, name: str, y2: bool = False, dash: str = ""
) -> dict[str, Any]:
    """A state held until its next change, drawn on to the end of the axis."""
    points = _held(_step_points(rows, column), axis)
    x, y = [axis.at(t) for t in points.index], _values(points)
    if x and x[-1] < axis.end_s:
        x, y = [*x, axis.end_s], [*y, y[-1]]
    trace: dict[str, Any] = {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y}
    trace["line"] = {"shape": "hv", **({"dash": dash} if dash else {})}
    if y2:
        trace["yaxis"] = "y2"
    return trace


def _line(x: list[float], y: pd.Series, name: str, color: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": x,
        "y": _values(y),
        "line": {"color": color, "width": 1.5},
    }


# --- decor ----------------------------------------------------------------------------------


def _event_markers(events: pd.DataFrame, axis: Axis) -> tuple[Marker, ...]:
    harness = events[(events["source"] == "harness") & events["kind"].isin(MARKER_KINDS)]
    rows = harness.sort_values("t_ms", kind="stable")
    return tuple(
        Marker(axis.at(t_ms), "event", _hover(kind, name, message, t_ms))
        for t_ms, kind, name, message in zip(
            rows["t_ms"].astype(int).tolist(),
            rows["kind"].tolist(),
            rows["name"].tolist(),
            rows["message"].tolist(),
            strict=True,
        )
    )


def _pod_markers(pods: pd.DataFrame, axis: Axis) -> tuple[Marker, ...]:
    deleting = pods[pods["transition"] == "deleting"].sort_values("t_ms", kind="stable")
    return tuple(
        Marker(axis.at(t_ms), "pod", _hover("pod deleting", name, "", t_ms))
        for t_ms, name in zip(
            deleting["t_ms"].astype(int).tolist(), deleting["name"].tolist(), strict=True
        )
    )


def _hover(kind: object, name: object, message: object, t_ms: int) -> str:
    words = " ".join(str(w) for w in (kind, name, message) if isinstance(w, str) and w)
    return f"{plotly_text(shorten(words, HOVER_TEXT_MAX))}<br>{clock(t_ms)} UTC"


def plotly_text(text: str) -> str:
    """``text`` as a figure shows it literally: printable, then HTML-escaped."""
    return html.escape(printable(text))


def figure_of(traces: list[dict[str, Any]], axis: Axis, decor: Decor, y_title: str) -> Figure:
    layout: dict[str, Any] = {
        "height": 340,
        "margin": {"l": 60, "r": 70, "t": 20, "b": 40},
        "xaxis": {"title": {"text": axis.title}, "range": [axis.start_s, axis.end_s], **SPIKES},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "yaxis9": {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
        "legend": {"orientation": "h", "y": -0.22},
        "hovermode": "x unified",
        "hoverdistance": -1,  # the nearest point of every trace, however far
        "hoverlabel": {"namelength": -1},  # whole trace names: "HPA order desired"
        "shapes": _band_shapes(decor.bands) + _marker_shapes(decor.markers),
        "annotations": _band_labels(decor.bands),
        "plot_bgcolor": "#ffffff",
    }
    return {"data": traces + _marker_traces(decor.markers), "layout": layout}


def _window_rank(name: str) -> tuple[int, str]:
    """Builtin windows first, in run order, then the scenario's own by name."""
    rank = WINDOW_ORDER.index(name) if name in WINDOW_ORDER else len(WINDOW_ORDER)
    return rank, name


def _band_shapes(bands: tuple[Band, ...]) -> list[dict[str, Any]]:
    return [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": b.start_s,
            "x1": b.end_s,
            "y0": 0,
            "y1": 1,
            "fillcolor": BAND_COLORS[i % len(BAND_COLORS)],
            "opacity": 0.06,
            "line": {"width": 0},
            "layer": "below",
        }
        for i, b in enumerate(bands)
    ]


def _band_labels(bands: tuple[Band, ...]) -> list[dict[str, Any]]:
    return [
        {
            "x": b.start_s,
            "y": 1 - 0.08 * i,
            "xref": "x",
            "yref": "paper",
            "xanchor": "left",
            "yanchor": "top",
            "text": plotly_text(b.name),
            "showarrow": False,
            "font": {"size": 10, "color": BAND_COLORS[i % len(BAND_COLORS)]},
        }
        for i, b in enumerate(bands)
    ]


def _marker_shapes(markers: tuple[Marker, ...]) -> list[dict[str, Any]]:
    color = {"event": "#555555", "pod": "#b279a2"}
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": m.t_s,
            "x1": m.t_s,
            "y0": 0,
            "y1": 1,
            "line": {"color": color[m.group], "width": 1, "dash": "dot"},
        }
        for m in markers
    ]


def _marker_traces(markers: tuple[Marker, ...]) -> list[dict[str, Any]]:
    groups = (("event", "harness events", "#555555"), ("pod", "pod deletions", "#b279a2"))
    traces = []
    for group, name, color in groups:
        chosen = [m for m in markers if m.group == group]
        if chosen:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": name,
                    "x": [m.t_s for m in chosen],
                    "y": [0.97] * len(chosen),
                    "yaxis": _MARKER_AXIS,
                    "hovertext": [m.text for m in chosen],
                    "hoverinfo": "text",
                    "marker": {"symbol": "triangle-down", "size": 9, "color": color},
                }
            )
    return traces
