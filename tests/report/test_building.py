from __future__ import annotations

from pathlib import Path

import pandas as pd

from slagate.report.building import build_report, windows_of
from slagate.report.figures import MAX_POINTS, Axis, Decor, traffic_chart
from slagate.report.summary import read_summary
from slagate.timeline import RunInfo, WindowBounds, load_timeline
from tests.report.runs import T0, T0_S, write_run


def test_without_cluster_tables_the_cluster_charts_are_notes(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)

    view = build_report(load_timeline(run), read_summary(run))

    charts = {c.key: c for c in view.charts}
    assert charts["traffic"].figure is not None
    assert charts["latency"].figure is not None
    assert charts["replicas"].figure is None
    assert charts["replicas"].note == "no HPA or Deployment recorded (no cluster)"
    assert charts["endpoints"].figure is None


def test_with_cluster_tables_every_chart_has_a_figure(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=True)

    view = build_report(load_timeline(run), read_summary(run))

    figures = {c.key: c.figure for c in view.charts}
    replicas = figures["replicas"]
    assert replicas is not None
    assert figures["endpoints"] is not None
    names = [t["name"] for t in replicas["data"]]
    assert names[:4] == [
        "HPA order desired",
        "HPA order current",
        "HPA order CPU %",
        "HPA order target %",
    ]
    assert "Deployment order ready" in names
    assert "pod deletions" in names


def test_traffic_is_summed_per_second_on_the_load_start_axis(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)

    view = build_report(load_timeline(run), read_summary(run))

    traffic = view.charts[0].figure
    assert traffic is not None
    requests, failures = traffic["data"][0], traffic["data"][1]
    assert requests["x"] == [float(s) for s in range(10)]
    assert requests["y"] == [20.0] * 10
    assert failures["y"][3] == 1.0
    assert traffic["layout"]["xaxis"]["range"] == [-1.0, 11.0]


def test_header_and_verdicts(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)

    view = build_report(load_timeline(run), read_summary(run))

    assert view.header.scenario_name == "rolling-deploy"
    assert view.header.exit_code == 1
    assert view.header.exit_meaning == "fail: an SLA failed or had no data"
    assert view.header.started_utc == "2023-11-14 22:13:19.000 UTC"
    assert view.header.host == "http://127.0.0.1:8002/"
    assert [v.status_class for v in view.verdicts] == ["fail", "pass", "nodata"]
    assert view.verdicts[0].measured == "99.5 %"
    assert view.verdicts[0].evidence[0].utc == "2023-11-14 22:13:23.120 UTC"
    assert [w.name for w in view.windows] == ["load", "rollout"]


def test_an_unjudged_run_has_no_verdicts(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)

    view = build_report(load_timeline(run), None)

    assert view.verdicts == ()
    assert view.header.exit_code is None


def test_long_runs_are_downsampled() -> None:
    seconds = MAX_POINTS * 3
    rows = [(T0_S + s, "GET", "/", 10, 0, 1.0, 1.0, 1.0, 1.0, 1.0, "w") for s in range(seconds)]
    requests = pd.DataFrame(
        rows,
        columns=[
            "t_s",
            "method",
            "name",
            "requests",
            "failures",
            "a",
            "b",
            "c",
            "d",
            "e",
            "worker",
        ],
    )
    axis = Axis(T0, 0.0, float(seconds), "seconds after load start")

    chart = traffic_chart(requests, axis, Decor((), ()))

    assert chart.figure is not None
    assert len(chart.figure["data"][0]["x"]) == MAX_POINTS
    assert chart.figure["data"][0]["y"][0] == 10.0


def test_empty_windows_are_left_out() -> None:
    windows = {
        "load": WindowBounds(start_ms=T0, end_ms=T0 + 1),
        "empty": WindowBounds(start_ms=T0, end_ms=T0),
    }
    info = RunInfo(run_id="r", started_ms=T0, windows=windows)

    assert windows_of(info) == {"load": (T0, T0 + 1)}
