"""The daemon's state file and how a daemon is recognised (pid and start time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil

from slagate.sandbox.daemon import DaemonState, read_state, running_state, stop_daemon, write_state


def state_of(process: psutil.Process, state_dir: Path) -> DaemonState:
    return DaemonState(
        pid=process.pid,
        started=process.create_time(),
        name="default",
        state_dir=str(state_dir),
        api_url="http://127.0.0.1:1",
        kubeconfig=str(state_dir / "kubeconfig"),
        services={"default/order": "http://127.0.0.1:2"},
        prometheus_url="http://127.0.0.1:3",
    )


def test_state_round_trips_through_its_file(tmp_path: Path) -> None:
    state = state_of(psutil.Process(), tmp_path)

    write_state(tmp_path, state)

    assert read_state(tmp_path) == state


def test_a_state_without_prometheus_reads_as_none(tmp_path: Path) -> None:
    written = json.loads(state_of(psutil.Process(), tmp_path).to_json())
    del written["prometheus_url"]
    (tmp_path / "state.json").write_text(json.dumps(written))

    state = read_state(tmp_path)

    assert state is not None
    assert state.prometheus_url is None


def test_a_state_whose_process_is_gone_is_not_running_and_down_cleans_it(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    process = psutil.Process(child.pid)
    write_state(tmp_path, state_of(process, tmp_path))
    child.wait()

    assert running_state(tmp_path) is None
    assert stop_daemon(tmp_path, timeout_s=1).pid is None
    assert read_state(tmp_path) is None


def test_a_recycled_pid_is_not_taken_for_the_daemon(tmp_path: Path) -> None:
    me = psutil.Process()
    stale = state_of(me, tmp_path)
    write_state(tmp_path, DaemonState(**{**stale.__dict__, "started": stale.started - 100}))

    assert running_state(tmp_path) is None


def test_an_unreadable_state_file_reads_as_no_daemon(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json")

    assert read_state(tmp_path) is None
