from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from slagate.errors import ExitCode
from slagate.report.building import (
    CrossCheckRow,
    build_report,
    cross_check_row,
    header_of,
    verdict_row,
    windows_of,
)
from slagate.report.figures import MAX_POINTS, Axis, Decor, traffic_chart
from slagate.report.summary import Summary, read_summary
from slagate.sla.crosscheck import CrossCheck
from slagate.timeline import ClusterInfo, RunInfo, SandboxProfile, WindowBounds, load_timeline
from tests.report.runs import CROSS_CHECK, PROM_VERDICTS, T0, T0_S, write_run


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


def test_promql_charts_come_after_the_others_in_scenario_order(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False, prometheus=True)

    view = build_report(load_timeline(run), read_summary(run))

    keys = [c.key for c in view.charts]
    assert keys == ["traffic", "latency", "replicas", "endpoints", "promql-1", "promql-2"]
    errors, up = view.charts[4:]
    assert errors.title.startswith("server-errors: sum(rate(http_request_duration_seconds_count{")
    assert errors.figure is not None
    assert errors.figure["data"][0]["y"][:4] == [0.0, 0.001, None, 0.04]
    assert (up.title, up.figure, up.note) == (
        "targets-up: min(up)",
        None,
        "no samples: the query returned none",
    )


def test_cross_checks_are_rows_in_percent_and_percentage_points(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False, prometheus=True)

    view = build_report(load_timeline(run), read_summary(run))

    assert view.cross_checks == (
        CrossCheckRow(
            sla_id="server-errors",
            window="load [0.0 s, 10.0 s]",
            client_ratio="0.50 %",
            client_requests="200",
            server_ratio="4.00 %",
            difference="+3.50 pp",
            tolerance="1 pp",
            note=CROSS_CHECK.note,
            verdict="differ",
            verdict_class="fail",
            flagged=True,
        ),
    )


@pytest.mark.parametrize(
    ("client", "server", "shown"),
    [
        pytest.param(0.08, 0.01, ("8.00 %", "1.00 %", "-7.00 pp", "differ"), id="client-more"),
        pytest.param(0.04, 0.042, ("4.00 %", "4.20 %", "+0.20 pp", "agree"), id="within"),
        pytest.param(0.01, None, ("1.00 %", "-", "-", "not compared"), id="no-server-side"),
    ],
)
def test_a_cross_check_row(
    client: float | None, server: float | None, shown: tuple[str, str, str, str]
) -> None:
    row = cross_check_row(CrossCheck("e", "load", 12_345, client, server, 0.01, "n"))

    assert (row.client_ratio, row.server_ratio, row.difference, row.verdict) == shown
    assert (row.client_requests, row.tolerance) == ("12,345", "1 pp")


def test_the_header_names_the_prometheus_without_user_info(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False, prometheus=True)

    header = build_report(load_timeline(run), read_summary(run)).header

    assert header.prometheus_url == "http://prom.example:9090/"
    assert header.prometheus_origin == "from the scenario's prometheus.url, step 1 s"


def test_the_header_says_which_sandbox_timings_and_data_plane_were_in_force() -> None:
    profile = SandboxProfile(
        timing="real-time",
        timings={"hpa_sync_period_s": 15.0, "hpa_downscale_stabilization_s": 300.0},
        data_plane="per-request",
        endpoint_propagation_delay_s=1.0,
    )
    cluster = ClusterInfo(server="https://127.0.0.1:1", namespace="default", sandbox=True)
    info = RunInfo(run_id="r", started_ms=T0)

    sandboxed = header_of(
        info.model_copy(
            update={"cluster": cluster.model_copy(update={"sandbox_profile": profile})}
        ),
        None,
    )
    real = header_of(info.model_copy(update={"cluster": cluster}), None)

    assert sandboxed.sandbox == (
        "timing real-time (hpa_downscale_stabilization_s 300 s, hpa_sync_period_s 15 s; probe "
        "periods as the manifests say); data plane per-request (endpoint changes "
        "reach the proxy after 1 s)"
    )
    assert (real.sandbox, header_of(info, None).sandbox) == ("", "")


def test_an_optional_sla_without_data_says_so_and_why_the_gate_passed() -> None:
    verdict = PROM_VERDICTS[1]
    info = RunInfo(run_id="r", started_ms=T0)

    header = header_of(info, Summary(ExitCode.PASSED, (verdict,)))

    assert (verdict_row(verdict).status, verdict_row(verdict).status_class) == (
        "no-data (optional)",
        "optional",
    )
    assert header.exit_meaning == (
        "pass: every required SLA passed; no data for the optional targets-up (not a failure)"
    )


def test_a_run_without_metrics_has_no_server_side_parts(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=True)

    view = build_report(load_timeline(run), read_summary(run))

    assert [c.key for c in view.charts] == ["traffic", "latency", "replicas", "endpoints"]
    assert view.cross_checks == ()
    assert (view.header.prometheus_url, view.header.prometheus_origin) == ("", "")
    assert view.header.exit_meaning == "fail: an SLA failed or had no data"
