"""User mistakes end with a clear message and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

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
