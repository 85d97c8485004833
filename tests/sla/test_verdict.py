"""The verdict model: pass, fail, no-data and "never", as JSON and as every view shows them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slagate.errors import ExitCode
from slagate.pytest_plugin import explain
from slagate.report.building import verdict_row
from slagate.report.summary import Summary, read_summary, write_summary
from slagate.sla.verdict import Evidence, Status, Verdict

WINDOW = "run [-2.0 s, 120.0 s]"
NEVER_MESSAGE = (
    "order never reached 3 ready replicas in 120.0 s after load start (at most 2 ready at "
    f"the end of {WINDOW}): CPU never above target"
)
TOOK = Verdict(
    "scale-out-order-3", "scale_out", Status.FAIL, 41.2, 30.0, WINDOW, "order took 41.2 s", "s"
)
NEVER = Verdict(
    id="scale-out-order-3",
    kind="scale_out",
    status=Status.FAIL,
    measured=None,
    threshold=30.0,
    window=WINDOW,
    message=NEVER_MESSAGE,
    unit="s",
    evidence=(Evidence(1_700_000_000_000, "Deployment order: desired 1, ready 1, current 1"),),
    never=True,
)
NO_DATA = Verdict(
    "scale-out-order-3", "scale_out", Status.NO_DATA, None, 30.0, WINDOW, "no data", "s"
)


@pytest.mark.parametrize(
    ("verdict", "measured_text"),
    [
        pytest.param(TOOK, "41.2 s", id="measured"),
        pytest.param(NEVER, "never", id="never"),
        pytest.param(NO_DATA, "-", id="no-data"),
    ],
)
def test_measured_text_tells_never_from_no_data(verdict: Verdict, measured_text: str) -> None:
    assert (verdict.measured_text, verdict.threshold_text) == (measured_text, "30 s")


def test_never_is_written_to_summary_json_and_read_back(tmp_path: Path) -> None:
    write_summary(tmp_path, Summary(ExitCode.FAILED, (NEVER, NO_DATA)))

    written = json.loads((tmp_path / "summary.json").read_text())["verdicts"]
    read = read_summary(tmp_path).verdicts

    assert written[0] == {
        "id": "scale-out-order-3",
        "kind": "scale_out",
        "status": "fail",
        "measured": None,
        "threshold": 30.0,
        "unit": "s",
        "window": WINDOW,
        "message": NEVER_MESSAGE,
        "evidence": [
            {"t_ms": 1_700_000_000_000, "text": "Deployment order: desired 1, ready 1, current 1"}
        ],
        "never": True,
    }
    assert "never" not in written[1]
    assert read == (NEVER, NO_DATA)


def test_a_summary_written_before_never_reads_as_it_was() -> None:
    older: dict[str, Any] = {
        "id": "scale-out-order-3",
        "kind": "scale_out",
        "status": "fail",
        "measured": 98.092,
        "threshold": 30.0,
        "window": WINDOW,
        "message": "order scale-out to 3 never happened",
    }

    verdict = Verdict.from_json(older)

    assert (verdict.never, verdict.measured, verdict.measured_text) == (False, 98.092, "98.092")


@pytest.mark.parametrize(
    ("status", "measured"),
    [
        pytest.param(Status.PASS, None, id="never-cannot-pass"),
        pytest.param(Status.NO_DATA, None, id="never-is-not-no-data"),
        pytest.param(Status.FAIL, 120.0, id="never-has-no-measured-value"),
    ],
)
def test_never_is_a_failure_without_a_measured_value(
    status: Status, measured: float | None
) -> None:
    with pytest.raises(ValueError, match="an event that never happened is a failure"):
        Verdict("s", "scale_out", status, measured, 30.0, WINDOW, "", "s", never=True)


def test_the_pytest_failure_text_and_the_report_row_say_never() -> None:
    assert explain(NEVER).splitlines()[:4] == [
        f"scale-out-order-3: FAIL: {NEVER_MESSAGE}",
        "  measured:  never",
        "  threshold: 30 s",
        f"  window:    {WINDOW}",
    ]
    row = verdict_row(NEVER)
    assert (row.status, row.measured, row.threshold) == ("fail", "never", "30 s")
