"""Charts of the PromQL SLAs: each one's series over the run, with its threshold.

Pure: built from the ``metrics`` table (samples filed under the SLA's id), the ``events``
table (why a fetch failed) and run.json; no plotly import, no I/O, no clock reads. Of the
recorded scenario only its PromQL SLAs (id, op, threshold, unit, window) and its named
windows are read, of ``prometheus`` the queries as sent and the step: the scenario's
``prometheus`` block may hold header values, and none of it reaches a report.

One chart per PromQL SLA, in scenario order, on the axis the other charts share:

- one line per series, named by its labels (escaped: label values are the target's text);
- NaN samples (a 0/0 ratio) and missing steps (a series gone stale) are gaps, not lines
  drawn across them;
- a dashed line at the threshold over the SLA's window, labelled with op, threshold, unit;
- the SLA's window shaded like the other bands (added when it is none of them, e.g. an
  inline ``{start, end}``);
- more than ``MAX_POINTS`` samples are binned keeping each bin's worst value (the largest
  for ``<``, ``<=``, ``==``, the smallest for ``>``, ``>=``), so no breach vanishes in a bin;
- at most ``SERIES_MAX`` series, the worst first; the chart's note says how many more.

A query without a single sample gets no figure, only a note saying why (the failed fetch's
reason when there was one). The ``:errors`` and ``:requests`` counts of an error-ratio
preset are not drawn: the client-side/server-side table compares them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from slagate.report.figures import MAX_POINTS, Axis, Band, Chart, Decor, figure_of, plotly_text
from slagate.scenario import PromqlSla
from slagate.sla.formatting import shorten
from slagate.sla.promql import fetch_problem, step_ms
from slagate.sla.verdict import Window, value_text
from slagate.sla.windows import Anchors, window_from
from slagate.timeline import Timeline

SERIES_MAX = 20
TITLE_QUERY_MAX = 120  # characters of the query in a chart's title
LABELS_MAX = 120  # characters of a series' labels in the legend
THRESHOLD_COLOR = "#cf222e"
SMALLER_IS_WORSE = (">", ">=")


@dataclass(frozen=True)
class PromqlChartSpec:
    """What a PromQL SLA's chart needs of the SLA; ``window`` is None when it never began."""

    sla_id: str
    query: str
    op: str
    threshold: float
    unit: str
    window: Window | None

    @property
    def threshold_text(self) -> str:
        """``<= 0.01 ratio``."""
        return f"{self.op} {value_text(self.threshold, self.unit)}"


def promql_charts(
    timeline: Timeline, anchors: Anchors, axis: Axis, decor: Decor
) -> tuple[Chart, ...]:
    """One chart per PromQL SLA of the recorded scenario; none without such an SLA."""
    step = step_ms(timeline)
    return tuple(
        promql_chart(
            spec,
            samples_of(timeline.metrics, spec.sla_id),
            axis,
            decor,
            key=f"promql-{i}",
            step_ms=step,
            problem=fetch_problem(timeline, spec.sla_id),
        )
        for i, spec in enumerate(promql_specs(timeline, anchors), start=1)
    )


def promql_specs(timeline: Timeline, anchors: Anchors) -> tuple[PromqlChartSpec, ...]:
    """The PromQL SLAs of run.json's scenario, with the query as sent (else its template)."""
    scenario = timeline.info.scenario
    if scenario is None:
        return ()
    prometheus = timeline.info.prometheus
    queries = prometheus.queries if prometheus is not None else {}
    return tuple(
        PromqlChartSpec(
            sla_id=sla.sla_id,
            query=queries.get(sla.sla_id, sla.template),
            op=sla.comparison,
            threshold=sla.threshold[0],
            unit=sla.threshold[1],
            window=window_from(sla.window, anchors, scenario.windows),
        )
        for sla in scenario.slas
        if isinstance(sla, PromqlSla)
    )


def samples_of(metrics: pd.DataFrame, query_id: str) -> pd.DataFrame:
    """The samples filed under ``query_id``, each once even when fetched twice (the later
    fetch wins, as in judging)."""
    rows = metrics[metrics["query"] == query_id]
    return rows.drop_duplicates(["t_ms", "series"], keep="last").sort_values("t_ms", kind="stable")


def promql_chart(
    spec: PromqlChartSpec,
    samples: pd.DataFrame,
    axis: Axis,
    decor: Decor,
    *,
    key: str,
    step_ms: int | None,
    problem: str | None = None,
) -> Chart:
    """The chart of one SLA; ``step_ms`` (the range queries' step) tells a missing sample
    from the next one (None: the series' own median spacing), ``problem`` is why the
    latest fetch failed."""
    title = f"{spec.sla_id}: {shorten(spec.query, TITLE_QUERY_MAX)}"
    if samples.empty:
        why = (
            f"the query could not be fetched ({problem})" if problem else "the query returned none"
        )
        return Chart(key, title, None, f"no samples: {why}")
    groups = _worst_first(samples, spec.op)
    how = "min" if spec.op in SMALLER_IS_WORSE else "max"
    traces = [
        _series_trace(labels, rows, axis, step_ms, how) for labels, rows in groups[:SERIES_MAX]
    ]
    span = _span(spec.window, axis)
    traces.append(_threshold_trace(spec, span))
    unit = plotly_text(spec.unit) if spec.unit else "value"
    figure = figure_of(traces, axis, _with_window(decor, spec.window, axis), unit)
    figure["layout"]["annotations"].append(_threshold_label(spec, span))
    return Chart(key, title, figure, _note(len(groups), problem))


# --- series ---------------------------------------------------------------------------------


def _worst_first(samples: pd.DataFrame, op: str) -> list[tuple[str, pd.DataFrame]]:
    """The series by how far toward a breach they went; all-NaN series last, then by labels."""
    smaller_is_worse = op in SMALLER_IS_WORSE
    groups = [(str(labels), rows) for labels, rows in samples.groupby("series", sort=True)]
    return sorted(groups, key=lambda group: _rank(group[1]["value"], smaller_is_worse))


def _rank(values: pd.Series, smaller_is_worse: bool) -> tuple[bool, float]:
    """Sorts the worst series first: the largest maximum (the smallest minimum for ``>``)."""
    badness = float(-values.min() if smaller_is_worse else values.max())
    return math.isnan(badness), 0.0 if math.isnan(badness) else -badness


def _series_trace(
    labels: str, rows: pd.DataFrame, axis: Axis, step_ms: int | None, how: str
) -> dict[str, Any]:
    values = rows.set_index("t_ms")["value"].astype(float).sort_index()
    width = step_ms or _spacing_ms(values.index)
    values, width = _binned(values, width, how)
    t_ms, y = _with_holes(values, width)
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": _legend(labels),
        "x": [axis.at(t) for t in t_ms],
        "y": [_significant(v) for v in y],
        "line": {"width": 1.5},
        "marker": {"size": 3},
    }


def _binned(values: pd.Series, width_ms: int, how: str) -> tuple[pd.Series, int]:
    """At most ``MAX_POINTS`` samples: bins of whole steps, each keeping its worst value."""
    if len(values) <= MAX_POINTS:
        return values, width_ms
    first = int(values.index[0])
    span = int(values.index[-1]) - first + width_ms
    width = math.ceil(span / width_ms / MAX_POINTS) * width_ms
    keys = first + (values.index.to_numpy() - first) // width * width
    binned: pd.Series = values.groupby(keys).agg(how)
    return binned, width


def _with_holes(values: pd.Series, width_ms: int) -> tuple[list[float], list[float]]:
    """The samples with a NaN one step after each sample that the next one follows by more
    than a step and a half: Plotly would draw a line across the hole otherwise."""
    t = values.index.to_numpy(dtype=float)
    v = values.to_numpy(dtype=float)
    before = np.flatnonzero(np.diff(t) > 1.5 * width_ms)
    t = np.insert(t, before + 1, t[before] + width_ms)
    v = np.insert(v, before + 1, np.nan)
    return t.tolist(), v.tolist()


def _spacing_ms(t_ms: pd.Index) -> int:
    gaps = np.diff(t_ms.to_numpy(dtype=float))
    return max(1, round(float(np.median(gaps)))) if len(gaps) else 1000


def _significant(value: float) -> float | None:
    """Six significant digits, not decimals: an error ratio of 0.0004 must not print as 0."""
    return float(f"{value:.6g}") if math.isfinite(value) else None


def _legend(labels: str) -> str:
    if labels in ("", "{}"):
        return "(no labels)"
    return plotly_text(shorten(labels, LABELS_MAX))


# --- threshold and window -------------------------------------------------------------------


def _span(window: Window | None, axis: Axis) -> tuple[float, float]:
    """Where the SLA is judged: its window, else (it never began) the whole axis."""
    if window is None:
        return axis.start_s, axis.end_s
    return axis.at(window.start_ms), axis.at(window.end_ms)


def _with_window(decor: Decor, window: Window | None, axis: Axis) -> Decor:
    """``decor`` with the SLA's window as one more band, unless a band covers it already."""
    if window is None:
        return decor
    band = Band(window.name, axis.at(window.start_ms), axis.at(window.end_ms))
    if any((b.start_s, b.end_s) == (band.start_s, band.end_s) for b in decor.bands):
        return decor
    return Decor((*decor.bands, band), decor.markers)


def _threshold_trace(spec: PromqlChartSpec, span: tuple[float, float]) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": plotly_text(f"threshold {spec.threshold_text}"),
        "x": list(span),
        "y": [spec.threshold, spec.threshold],
        "line": {"color": THRESHOLD_COLOR, "dash": "dash", "width": 1.5},
        "hoverinfo": "name",
    }


def _threshold_label(spec: PromqlChartSpec, span: tuple[float, float]) -> dict[str, Any]:
    return {
        "x": span[1],
        "y": spec.threshold,
        "xref": "x",
        "yref": "y",
        "xanchor": "right",
        "yanchor": "bottom",
        "text": plotly_text(spec.threshold_text),
        "showarrow": False,
        "font": {"size": 10, "color": THRESHOLD_COLOR},
    }


def _note(series: int, problem: str | None) -> str:
    notes = []
    if series > SERIES_MAX:
        notes.append(f"{series - SERIES_MAX} more series not drawn (the {SERIES_MAX} worst are)")
    if problem:
        notes.append(f"the latest fetch failed ({problem}): these samples are an earlier fetch's")
    return "; ".join(notes)
