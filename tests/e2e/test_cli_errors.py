"""User mistakes end with a clear message and exit 2, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.e2e.conftest import slagate


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port = _free_port()
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
