from __future__ import annotations

import json
from pathlib import Path

import pytest

from slagate.errors import TimelineError
from slagate.sla.summary import Summary, read_summary, write_summary
from slagate.sla.verdict import Evidence, Status, Verdict

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
    path = write_summary(tmp_path, VERDICTS, 1, status="completed", note="")
    assert path == tmp_path / "summary.json"
    data = json.loads(path.read_text())
    assert data == {
        "exit_code": 1,
        "status": "completed",
        "note": "",
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
    write_summary(tmp_path, VERDICTS, 1, status="aborted")
    summary = read_summary(tmp_path)
    assert summary == Summary(exit_code=1, verdicts=VERDICTS, extra={"status": "aborted"})
    assert list(summary) == list(VERDICTS)


def test_rewriting_replaces_the_summary(tmp_path: Path) -> None:
    write_summary(tmp_path, VERDICTS, 1)
    write_summary(tmp_path, [], 0)
    assert read_summary(tmp_path) == Summary(exit_code=0, verdicts=())


@pytest.mark.parametrize("key", ["exit_code", "verdicts"])
def test_extra_cannot_replace_the_fixed_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        write_summary(tmp_path, VERDICTS, 0, **{key: 5})


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
    ],
)
def test_unreadable_summary_is_a_timeline_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "summary.json").write_text(text)
    with pytest.raises(TimelineError, match="cannot read"):
        read_summary(tmp_path)
