"""User mistakes end with a clear message and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

from slagate.lifecycle import begin_run, end_run
from slagate.scenario import parse_scenario
from slagate.timeline import RequestRow, RunStatus, Table, append_rows
from tests.e2e.conftest import slagate
from tests.fakes import free_port


def test_invalid_scenario_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nload:\n  shape: constant\n  users: 2\n  duration: 2s\n"
        "slas:\n  - kind: latency\n    max_ms: -1\n  - kind: uptime\n"
    )
    result = slagate(["run", str(bad), "--reports", str(tmp_path / "reports")])
    assert result.returncode == 2
    assert f"{bad}:8: slas[0].max_ms: Input should be greater than 0" in result.stderr
    assert f"{bad}:9: slas[1]: unknown kind 'uptime'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "reports").exists()


def test_unreachable_host_fails_preflight_before_any_load(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nload: {shape: constant, users: 1, duration: 2s}\n"
        "slas: [{kind: availability, min_percent: 99}]\n"
    )
    port = free_port()
    result = slagate(
        [
            "run",
            str(scenario),
            "--host",
            f"http://127.0.0.1:{port}",
            "--reports",
            str(tmp_path / "reports"),
        ]
    )
    assert result.returncode == 2
    assert f"host http://127.0.0.1:{port}: connection refused" in result.stderr
    assert "no load was sent" in result.stderr
    assert not (tmp_path / "reports").exists()


def test_missing_host_is_a_config_error(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nload: {shape: constant, users: 1, duration: 2s}\n")
    result = slagate(["run", str(scenario)])
    assert result.returncode == 2
    assert "no target: set target.host or target.kubernetes.service" in result.stderr


def test_bad_service_option(tmp_path: Path) -> None:
    result = slagate(["run", "scenarios/smoke.yaml", "--service", "product"])
    assert result.returncode == 2
    assert "expected NAME=URL" in result.stderr


def test_check_on_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = slagate(["check", str(tmp_path)])
    assert result.returncode == 2
    assert "run.json is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_cluster_option_mistakes_exit_2_before_any_folder(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    missing = slagate(
        [
            "run",
            "scenarios/rolling-deploy.yaml",
            "--kubeconfig",
            str(tmp_path / "nope"),
            "--reports",
            str(reports),
        ]
    )
    assert missing.returncode == 2
    assert f"--kubeconfig {tmp_path / 'nope'}: no such file" in missing.stderr
    manifests = slagate(
        [
            "run",
            "scenarios/rolling-deploy.yaml",
            "--sandbox",
            "--manifests",
            str(tmp_path / "none"),
            "--reports",
            str(reports),
        ]
    )
    assert manifests.returncode == 2
    assert "no such file or directory" in manifests.stderr
    assert not reports.exists()


def test_unreachable_cluster_fails_preflight_and_leaves_no_run(tmp_path: Path) -> None:
    port = free_port()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: x}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]\n"
        "current-context: x\n"
    )
    reports = tmp_path / "reports"
    result = slagate(
        [
            "run",
            "scenarios/rolling-deploy.yaml",
            "--kubeconfig",
            str(kubeconfig),
            "--reports",
            str(reports),
        ]
    )
    assert result.returncode == 2
    assert f"cannot reach the Kubernetes API server at http://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(reports.iterdir()) == []


def recorded_run(run_dir: Path) -> Path:
    """A small run folder as `slagate run` leaves it before judging: two part files."""
    scenario = parse_scenario(
        "name: s\nload: {shape: constant, users: 1, duration: 2s}\n"
        "slas: [{kind: availability, min_percent: 99}]\n"
    )
    run_dir.mkdir()
    begin_run(
        run_dir, started_ms=T0 - 1000, scenario=scenario, scenario_path=None, host=None, services={}
    )
    for second in range(2):
        append_rows(
            run_dir,
            f"load-{second}",
            Table.REQUESTS,
            [RequestRow(T0 // 1000 + second, "GET", "/", 10, 0, 10.0, 1.0, 1.0, 1.0, 1.0, "w")],
        )
    end_run(run_dir, ended_ms=T0 + 3000, status=RunStatus.COMPLETED, reason=None)
    return run_dir


T0 = 1_700_000_000_000


def test_check_judges_a_recorded_run_with_the_same_finish(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path / "run")
    result = slagate(["check", str(run_dir)])
    assert result.returncode == 1, result.stderr  # no load events: the load window is no-data
    assert (run_dir / "summary.json").is_file()
    assert (run_dir / "report.html").is_file()
    assert [p.name for p in (run_dir / "requests").glob("*.parquet")] == ["all-000000.parquet"]


def test_check_on_a_damaged_part_file_names_it_and_deletes_nothing(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path / "run")
    part = sorted((run_dir / "requests").glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:20])
    before = sorted(p.name for p in (run_dir / "requests").iterdir())
    result = slagate(["check", str(run_dir)])
    assert result.returncode == 2
    assert f"{run_dir / 'requests'}" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (run_dir / "requests").iterdir()) == before


def test_check_on_a_run_json_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path / "run")
    (run_dir / "run.json").write_text('{"run_id": "r", "started_')
    result = slagate(["check", str(run_dir)])
    assert result.returncode == 2
    assert f"cannot read {run_dir / 'run.json'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_on_a_summary_from_a_newer_slagate_says_so(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path / "run")
    (run_dir / "summary.json").write_text('{"schema_version": 7, "exit_code": 0, "verdicts": []}')
    result = slagate(["report", str(run_dir)])
    assert result.returncode == 2
    assert "written by a newer slagate" in result.stderr
    assert "Traceback" not in result.stderr
