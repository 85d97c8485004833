"""The PromQL SLAs' charts: their series, threshold and window on the shared time axis."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from slagate.report.figures import MAX_POINTS, Axis, Band, Decor
from slagate.report.promql_charts import (
    SERIES_MAX,
    PromqlChartSpec,
    promql_chart,
    promql_charts,
    samples_of,
)
from slagate.sla.verdict import Window
from slagate.sla.windows import anchors_of
from tests.report.runs import EVIL
from tests.sla.timelines import T0, frame, load_events, sample, scenario, timeline

AXIS = Axis(T0, -1.0, 11.0, "seconds after load start")
LOAD = Window("load", T0, T0 + 10_000, T0)
DECOR = Decor((Band("load", 0.0, 10.0),), ())
SPEC = PromqlChartSpec(
    "server-errors", "sum(rate(errors[1m])) / sum(rate(all[1m]))", "<=", 0.01, "ratio", LOAD
)
PROMETHEUS = {
    "url": "http://p:9090",
    "source": "option",
    "step_s": 1.0,
    "range_s": 5.0,
    "queries": {"q": "sum(rate(errors[5s]))"},
}


def samples(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    return samples_of(frame("metrics", rows), "q")


def chart_of(
    rows: list[tuple[Any, ...]], spec: PromqlChartSpec = SPEC, **kw: Any
) -> dict[str, Any]:
    chart = promql_chart(spec, samples(rows), AXIS, DECOR, key="promql-1", step_ms=1000, **kw)
    assert chart.figure is not None
    return chart.figure


def test_one_line_per_series_worst_first_and_a_threshold_line_over_the_window() -> None:
    rows = [sample(s, v, series='{pod="a"}') for s, v in enumerate([0.001, 0.002, 0.0004123456])]
    rows += [sample(s, v, series='{pod="b"}') for s, v in enumerate([0.0, 0.02, 0.0])]

    chart = promql_chart(SPEC, samples(rows), AXIS, DECOR, key="promql-1", step_ms=1000)

    assert chart.title == "server-errors: sum(rate(errors[1m])) / sum(rate(all[1m]))"
    assert chart.note == ""
    assert chart.figure is not None
    b, a, threshold = chart.figure["data"]
    assert (b["name"], b["x"], b["y"]) == ("{pod=&quot;b&quot;}", [0.0, 1.0, 2.0], [0.0, 0.02, 0.0])
    assert (a["name"], a["y"]) == ("{pod=&quot;a&quot;}", [0.001, 0.002, 0.000412346])
    assert threshold == {
        "type": "scatter",
        "mode": "lines",
        "name": "threshold &lt;= 0.01 ratio",
        "x": [0.0, 10.0],
        "y": [0.01, 0.01],
        "line": {"color": "#cf222e", "dash": "dash", "width": 1.5},
        "hoverinfo": "name",
    }
    label = chart.figure["layout"]["annotations"][-1]
    assert (label["text"], label["x"], label["y"]) == ("&lt;= 0.01 ratio", 10.0, 0.01)
    assert chart.figure["layout"]["yaxis"]["title"] == {"text": "ratio"}
    assert chart.figure["layout"]["xaxis"]["range"] == [-1.0, 11.0]


def test_nan_samples_and_missing_steps_are_gaps() -> None:
    values = {0: 0.1, 1: math.nan, 2: 0.3, 5: 0.4, 6: 0.5}
    rows = [sample(s, v) for s, v in values.items()]

    (line, _threshold) = chart_of(rows)["data"]

    assert line["x"] == [0.0, 1.0, 2.0, 3.0, 5.0, 6.0]
    assert line["y"] == [0.1, None, 0.3, None, 0.4, 0.5]
    assert line["name"] == "(no labels)"


def test_a_hostile_label_value_is_escaped() -> None:
    rows = [sample(0, 1.0, series=f'{{path="{EVIL}"}}')]

    (line, _threshold) = chart_of(rows)["data"]

    assert line["name"] == "{path=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;}"


@pytest.mark.parametrize(
    ("op", "kept"),
    [
        pytest.param("<=", 9.0, id="max-for-an-upper-bound"),
        pytest.param(">=", -9.0, id="min-for-a-lower-bound"),
    ],
)
def test_long_series_are_binned_keeping_the_worst_value(op: str, kept: float) -> None:
    count = MAX_POINTS * 3
    rows = [sample(s, 0.0) for s in range(count)]
    rows[4] = sample(4, kept)
    spec = PromqlChartSpec("q", "x", op, 1.0, "", None)
    axis = Axis(T0, 0.0, float(count), "seconds after load start")

    chart = promql_chart(spec, samples(rows), axis, Decor((), ()), key="k", step_ms=1000)

    assert chart.figure is not None
    line = chart.figure["data"][0]
    assert len(line["x"]) == MAX_POINTS
    assert line["x"][:2] == [0.0, 3.0]
    assert line["y"][:3] == [0.0, kept, 0.0]


def test_a_query_without_samples_is_a_note_saying_why() -> None:
    empty = samples([])

    none = promql_chart(SPEC, empty, AXIS, DECOR, key="k", step_ms=1000)
    failed = promql_chart(SPEC, empty, AXIS, DECOR, key="k", step_ms=1000, problem="refused")

    assert (none.figure, none.note) == (None, "no samples: the query returned none")
    assert failed.note == "no samples: the query could not be fetched (refused)"


def test_an_inline_window_is_shaded_as_one_more_band() -> None:
    spec = PromqlChartSpec("q", "x", ">", 1.0, "replicas", Window("2s-6s", T0 + 2_000, T0 + 6_000))

    figure = chart_of([sample(s, 2.0) for s in range(8)], spec)

    bands = [(s["x0"], s["x1"]) for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    labels = [a["text"] for a in figure["layout"]["annotations"]]
    assert bands == [(0.0, 10.0), (2.0, 6.0)]
    assert labels == ["load", "2s-6s", "&gt; 1 replicas"]
    assert figure["data"][-1]["x"] == [2.0, 6.0]


def test_a_window_that_is_a_band_already_is_not_shaded_twice() -> None:
    figure = chart_of([sample(0, 0.0)])

    bands = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    assert len(bands) == 1


def test_a_window_that_never_began_puts_the_threshold_over_the_whole_axis() -> None:
    spec = PromqlChartSpec("q", "x", "<=", 0.5, "", None)

    figure = chart_of([sample(0, 0.0)], spec)

    assert figure["data"][-1]["x"] == [-1.0, 11.0]
    assert figure["layout"]["yaxis"]["title"] == {"text": "value"}


def test_only_the_worst_series_are_drawn_and_the_note_says_how_many_more() -> None:
    rows = [sample(0, float(i), series=f'{{pod="p{i:02d}"}}') for i in range(SERIES_MAX + 2)]

    chart = promql_chart(SPEC, samples(rows), AXIS, DECOR, key="k", step_ms=1000)

    assert chart.figure is not None
    names = [t["name"] for t in chart.figure["data"]]
    assert len(names) == SERIES_MAX + 1
    assert names[0] == "{pod=&quot;p21&quot;}"
    assert chart.note == "2 more series not drawn (the 20 worst are)"


def test_a_later_fetch_wins_and_a_failed_latest_fetch_is_noted() -> None:
    rows = [sample(0, 0.5), sample(1, 0.5), sample(0, 0.1)]

    chart = promql_chart(SPEC, samples(rows), AXIS, DECOR, key="k", step_ms=1000, problem="down")

    assert chart.figure is not None
    assert chart.figure["data"][0]["y"] == [0.1, 0.5]
    assert chart.note == "the latest fetch failed (down): these samples are an earlier fetch's"


def test_every_promql_sla_of_the_scenario_gets_a_chart_titled_with_its_query_as_sent() -> None:
    slas = [
        {"kind": "availability", "min_percent": 99},
        {"kind": "promql", "id": "q", "query": "sum(rate(errors[{range}]))", "threshold": 1},
        {"kind": "promql", "id": "r", "query": "up", "threshold": 1, "op": ">="},
    ]
    info = {"scenario": scenario(slas), "prometheus": PROMETHEUS}
    tl = timeline(events=load_events(10), metrics=[sample(0, 0.5)], info=info)

    charts = promql_charts(tl, anchors_of(tl), AXIS, DECOR)

    assert [(c.key, c.title, c.note) for c in charts] == [
        ("promql-1", "q: sum(rate(errors[5s]))", ""),
        ("promql-2", "r: up", "no samples: the query returned none"),
    ]


@pytest.mark.parametrize(
    "info",
    [
        pytest.param({}, id="no-scenario"),
        pytest.param(
            {"scenario": scenario([{"kind": "availability", "min_percent": 99}])}, id="no-promql"
        ),
    ],
)
def test_no_promql_sla_no_chart(info: dict[str, Any]) -> None:
    tl = timeline(events=load_events(10), info=info)

    assert promql_charts(tl, anchors_of(tl), AXIS, DECOR) == ()
