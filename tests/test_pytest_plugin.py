"""The pytest gate's bad input: exit 2 and the message alone, never pytest's frames; and
its ``--baseline`` for relative SLAs.

Each case is a real ``pytest sla_checks/`` session (about a second each): the gate is a
command people run, and how pytest shows an error is decided by where it is raised.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slagate.scenario import parse_scenario
from slagate.timeline import RunStatus, read_run_info, write_run_info
from tests.report.runs import write_run

REPO = Path(__file__).resolve().parents[1]


def gate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "sla_checks/", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            "name: x\nload: {shape: constant, users: 1, duration: .inf}\n",
            ":2: load.duration: a duration must be a finite number >= 0, got inf",
            id="invalid-scenario",
        ),
        pytest.param(None, "run.json is missing", id="not-a-run-folder"),
        pytest.param("", "pass --scenario FILE (run it) or --run-dir DIR", id="no-option"),
        pytest.param(
            "recorded",
            "--sandbox, --timing: only for a new run (--scenario FILE); --run-dir alone judges",
            id="run-options-with-run-dir",
        ),
        pytest.param(
            "name: x\nload: {shape: constant, users: 1, duration: 1}\n"
            "slas: [{kind: availability, min_percent: 99}]\n",
            "unknown data plane 'iptables'; valid: per-request, kube-proxy, istio, aws-alb, "
            "aws-nlb",
            id="unknown-data-plane",
        ),
        pytest.param(
            "name: x\nload: {shape: constant, users: 1, duration: 1}\n"
            "slas: [{kind: availability, min_percent: 99}]\n",
            "unknown timing 'fast'; valid: compressed, real-time",
            id="unknown-timing",
        ),
    ],
)
def test_bad_input_ends_the_gate_with_exit_2_and_no_traceback(
    tmp_path: Path, content: str | None, message: str
) -> None:
    scenario = tmp_path / "s.yaml"
    if content is None:
        args = ["--run-dir", str(tmp_path)]
    elif content == "recorded":  # refused before the folder is read
        args = ["--run-dir", str(tmp_path), "--sandbox", "--timing", "real-time"]
    elif content:
        scenario.write_text(content)
        args = ["--scenario", str(scenario)]
        if "data plane" in message:
            args += ["--sandbox", "--data-plane", "iptables", "--reports", str(tmp_path)]
        if "timing" in message:
            args += ["--sandbox", "--timing", "fast", "--reports", str(tmp_path)]
    else:
        args = []
    done = gate(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "pluggy" not in done.stdout + done.stderr


RELATIVE_SCENARIO = """\
name: rolling-deploy
load: {shape: constant, users: 1, duration: 10s}
slas:
  - {id: p95-vs-baseline, kind: latency, percentile: 95, max_ratio_to_baseline: 0.5}
"""


def test_the_gate_judges_relative_slas_against_its_baseline(tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", cluster=False)
    new = write_run(tmp_path / "new", cluster=False)
    info = read_run_info(new)
    write_run_info(new, info.model_copy(update={"scenario": parse_scenario(RELATIVE_SCENARIO)}))

    judged = gate("--run-dir", str(new), "--baseline", str(base))
    refused = gate("--run-dir", str(new), "--baseline", str(tmp_path / "none"))

    assert judged.returncode == 1, judged.stdout + judged.stderr
    assert "p95-vs-baseline: FAIL: p95 latency 19 ms > 9.5 ms" in judged.stdout
    assert "(bound: 0.5 x 19 ms in baseline base)" in judged.stdout
    assert refused.returncode == 2
    assert f"--baseline {tmp_path / 'none'}: {tmp_path / 'none'} is not a run folder" in (
        refused.stdout + refused.stderr
    )


STOPPED_SCENARIO = """\
name: rolling-deploy
load: {shape: constant, users: 1, duration: 10s}
slas:
  - {id: p95-under-5ms, kind: latency, percentile: 95, max_ms: 5, abort_on_fail: true}
"""


def test_a_recorded_run_an_sla_stopped_is_a_failed_gate_naming_the_cause(tmp_path: Path) -> None:
    """As `slagate check` judges it: exit 1 (the gate failed early), not 3 (aborted)."""
    run = write_run(tmp_path / "stopped", cluster=False)
    info = read_run_info(run)
    stopped = {
        "status": RunStatus.ABORTED,
        "stopped_by": "p95-under-5ms",
        "scenario": parse_scenario(STOPPED_SCENARIO),
    }
    write_run_info(run, info.model_copy(update=stopped))

    judged = gate("--run-dir", str(run))

    assert judged.returncode == 1, judged.stdout + judged.stderr
    assert "p95-under-5ms: FAIL: stopped the run (abort_on_fail): p95 latency" in judged.stdout
