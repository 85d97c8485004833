from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from slagate.load.progress import ProgressStream
from slagate.load.recorder import LatencyMath, Recorder, Totals
from slagate.load.session import RunSpec, Session
from slagate.scenario import parse_scenario
from slagate.timeline import (
    RUN_INFO,
    EventKind,
    EventRow,
    RunStatus,
    StopReason,
    load_timeline,
    read_run_info,
)
from tests.fakes import FakeClock

SCENARIO = parse_scenario("name: s\nload: {shape: constant, users: 2, duration: 5s}\n")


def session(tmp_path: Path, clock: FakeClock, managed: bool = False) -> Session:
    recorder = Recorder(worker="local", clock=clock, latency=LatencyMath(round, lambda h, n, p: 0))
    spec = RunSpec(
        run_dir=tmp_path / "run",
        host="http://h:1",
        services={"product": "http://h:2"},
        scenario=SCENARIO,
        scenario_path=Path("s.yaml"),
        managed=managed,
    )
    return Session(spec, recorder, clock)


def test_begin_writes_run_json(tmp_path: Path) -> None:
    s = session(tmp_path, FakeClock(1000.5))
    s.begin()
    info = read_run_info(s.run_dir)
    assert info.run_id == "run"
    assert info.scenario_name == "s"
    assert info.scenario == SCENARIO
    assert (info.host, info.services) == ("http://h:1", {"product": "http://h:2"})
    assert (info.started_ms, info.status, info.ended_ms) == (1000500, RunStatus.RUNNING, None)
    assert {"slagate", "locust", "python"} <= set(info.versions)


def test_a_managed_session_leaves_run_json_to_slagate_run(tmp_path: Path) -> None:
    s = session(tmp_path, FakeClock(1000.0), managed=True)
    s.begin()
    s.stop(StopReason.SIGNAL, "stopped by SIGTERM")
    s.close()
    assert s.run_dir.is_dir()
    assert not (s.run_dir / RUN_INFO).exists()


def test_events_reach_listeners_and_the_events_table(tmp_path: Path) -> None:
    s = session(tmp_path, FakeClock(1000.0))
    seen: list[EventRow] = []
    s.on_event(seen.append)
    s.event(EventKind.USERS, "2")
    assert seen == [EventRow(1000000, "harness", "users", "2", "")]
    s.begin()
    assert s.write(s.collect(final=True)) == 1
    assert "users" in load_timeline(s.run_dir).events["kind"].tolist()


def test_the_first_stop_reason_wins(tmp_path: Path) -> None:
    s = session(tmp_path, FakeClock(1000.0))
    assert not s.aborted
    assert s.stop(StopReason.ABORT, "too many failures") is True
    assert s.stop(StopReason.SIGNAL, "SIGTERM") is False
    assert (s.stop_reason, s.abort_reason, s.aborted) == ("abort", "too many failures", True)


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (None, RunStatus.COMPLETED),
        (StopReason.SIGNAL, RunStatus.ABORTED),
        (StopReason.ABORT, RunStatus.ABORTED),
    ],
)
def test_close_says_how_the_load_ended(
    tmp_path: Path, reason: StopReason | None, status: RunStatus
) -> None:
    clock = FakeClock(1000.0)
    s = session(tmp_path, clock)
    s.begin()
    if reason:
        s.stop(reason, "why")
    clock.now_s = 1010.0
    s.close()
    info = read_run_info(s.run_dir)
    assert (info.status, info.ended_ms, info.started_ms) == (status, 1010000, 1000000)
    assert info.abort_reason == ("why" if reason else None)
    assert s.closed


def test_rows_written_read_back_as_the_timeline(tmp_path: Path) -> None:
    clock = FakeClock(1000.0)
    s = session(tmp_path, clock)
    s.begin()
    for start in (998.1, 998.2, 999.5):
        s.recorder.on_request("GET", "/a", 2.0, start_time=start, exception=None)
    s.recorder.on_request("GET", "/a", 2.0, start_time=998.3, exception="bad")
    s.write(s.collect())
    timeline = load_timeline(s.run_dir)
    assert timeline.requests[["t_s", "requests", "failures"]].values.tolist() == [[998, 3, 1]]
    assert timeline.failures["error"].tolist() == ["bad"]
    s.write(s.collect(final=True))
    assert load_timeline(s.run_dir).requests["requests"].sum() == 4


def test_progress_lines_are_json_objects() -> None:
    out = io.StringIO()
    stream = ProgressStream(out)
    stream.progress(1500, 3, Totals(10, 1), Totals(4, 0))
    stream.event(EventRow(1600, "harness", EventKind.LOAD_STOP, "", "finished"))
    stream.end(RunStatus.ABORTED, "stopped by SIGTERM")
    stream.error("no host")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    progress = {"type": "progress", "t_ms": 1500, "users": 3, "requests": 10, "failures": 1}
    assert lines[0] == {**progress, "rps": 4, "fail_rps": 0}
    assert lines[1] == {
        "type": "event",
        "kind": "load_stop",
        "t_ms": 1600,
        "name": "",
        "message": "finished",
    }
    assert lines[2] == {"type": "end", "status": "aborted", "reason": "stopped by SIGTERM"}
    assert lines[3] == {"type": "error", "message": "no host"}


def test_a_closed_progress_stream_does_not_stop_the_load() -> None:
    out = io.StringIO()
    out.close()
    ProgressStream(out).error("nobody listens")  # no exception
