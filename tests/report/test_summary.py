from __future__ import annotations

import json
from pathlib import Path

import pytest

from slagate.errors import ExitCode, TimelineError
from slagate.report.summary import Summary, read_summary, write_summary
from slagate.sla.rollout_spans import RollbackSpan
from slagate.sla.verdict import Evidence, Status, Verdict
from slagate.timeline import RunStatus

VERDICTS = (
    Verdict(
        id="availability",
        kind="availability",
        status=Status.FAIL,
        measured=99.122,
        threshold=99.9,
        window="load [0.0 s, 30.0 s]",
        message="availability 99.122% < 99.9% in load [0.0 s, 30.0 s]: 44 of 5,012 requests failed",
        unit="%",
        evidence=(Evidence(1_700_000_003_120, "GET /orders status=0 boom"),),
    ),
    Verdict("p95", "latency", Status.NO_DATA, None, 200.0, "load (never began)", "no data", "ms"),
)


def test_summary_json_has_the_fixed_format(tmp_path: Path) -> None:
    path = write_summary(tmp_path, Summary(ExitCode.FAILED, VERDICTS))
    assert path == tmp_path / "summary.json"
    data = json.loads(path.read_text())
    assert data == {
        "schema_version": 1,
        "exit_code": 1,
        "status": "completed",
        "note": "",
        "cross_checks": [],
        "rollbacks": [],
        "stopped_by": None,
        "verdicts": [
            {
                "id": "availability",
                "kind": "availability",
                "status": "fail",
                "measured": 99.122,
                "threshold": 99.9,
                "unit": "%",
                "window": "load [0.0 s, 30.0 s]",
                "message": VERDICTS[0].message,
                "evidence": [{"t_ms": 1_700_000_003_120, "text": "GET /orders status=0 boom"}],
            },
            {
                "id": "p95",
                "kind": "latency",
                "status": "no-data",
                "measured": None,
                "threshold": 200.0,
                "unit": "ms",
                "window": "load (never began)",
                "message": "no data",
                "evidence": [],
            },
        ],
    }
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_read_summary_round_trips(tmp_path: Path) -> None:
    written = Summary(ExitCode.ABORTED, VERDICTS, RunStatus.ABORTED, "stopped by SIGTERM")
    write_summary(tmp_path, written)
    summary = read_summary(tmp_path)
    assert summary == written
    assert list(summary) == list(VERDICTS)


ROLLBACK = RollbackSpan(
    "order", 1_700_000_030_000, "to revision 1: the run failed (x did not pass)",
    1_700_000_036_250, "ok revision 3",
)  # fmt: skip


def test_rollbacks_round_trip_and_describe_themselves(tmp_path: Path) -> None:
    write_summary(tmp_path, Summary(ExitCode.FAILED, VERDICTS, rollbacks=(ROLLBACK,)))
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["rollbacks"] == [
        {
            "deployment": "order",
            "start_ms": 1_700_000_030_000,
            "end_ms": 1_700_000_036_250,
            "reason": "to revision 1: the run failed (x did not pass)",
            "outcome": "ok revision 3",
        }
    ]
    assert read_summary(tmp_path).rollbacks == (ROLLBACK,)
    assert ROLLBACK.describe() == (
        "rolled back deployment/order to revision 1: ok revision 3 after 6.2 s"
    )
    unfinished = RollbackSpan("order", 1_700_000_030_000, "to revision 1: aborted")
    assert unfinished.describe() == "rollback of deployment/order to revision 1: never ended"


def test_rewriting_replaces_the_summary(tmp_path: Path) -> None:
    write_summary(tmp_path, Summary(ExitCode.FAILED, VERDICTS))
    write_summary(tmp_path, Summary(ExitCode.PASSED, ()))
    assert read_summary(tmp_path) == Summary(ExitCode.PASSED, ())


def test_the_summary_is_readable_by_others(tmp_path: Path) -> None:
    path = write_summary(tmp_path, Summary(ExitCode.PASSED, ()))
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_summary_from_a_newer_slagate_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"schema_version": 99, "exit_code": 0, "verdicts": []}')
    with pytest.raises(TimelineError, match="written by a newer slagate"):
        read_summary(tmp_path)


def test_missing_summary_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match="not judged yet; run `slagate check"):
        read_summary(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{not json", id="malformed"),
        pytest.param('{"exit_code": 0}', id="no-verdicts"),
        pytest.param('{"exit_code": 0, "verdicts": [{"id": "x"}]}', id="bad-verdict"),
        pytest.param("[]", id="not-an-object"),
        pytest.param('{"exit_code": 7, "verdicts": []}', id="unknown-exit-code"),
    ],
)
def test_unreadable_summary_is_a_timeline_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "summary.json").write_text(text)
    with pytest.raises(TimelineError, match="cannot read"):
        read_summary(tmp_path)
