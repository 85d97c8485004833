"""Where an SLA holds and where it flips across a sweep's cells (``slagate.sla.transfer``)."""

from __future__ import annotations

import pytest

from slagate.sla.transfer import CellVerdicts, describe_cells, transfers
from slagate.sla.verdict import Status, Verdict


def verdict(status: Status, message: str = "", sla_id: str = "rolling") -> Verdict:
    measured = None if status is Status.NO_DATA else 1.0
    return Verdict(sla_id, "failed_requests", status, measured, 0.0, "rollout", message)


def cell(plane: str, delay: str, *verdicts: Verdict) -> CellVerdicts:
    return CellVerdicts((("data_plane", plane), ("delay", delay)), verdicts)


def test_flip_names_where_it_holds_and_why_it_fails() -> None:
    cells = [
        cell("per-request", "1s", verdict(Status.PASS)),
        cell("per-request", "5s", verdict(Status.PASS)),
        cell("per-request", "15s", verdict(Status.FAIL, "6 requests failed: add a preStop")),
    ]
    (rolling,) = transfers(cells)
    assert rolling.flips
    assert rolling.sentence == (
        "rolling holds at data_plane=per-request, delay=1s and 5s; "
        "fails at data_plane=per-request, delay=15s: 6 requests failed: add a preStop"
    )


def test_the_first_failing_cells_explanation_is_the_why() -> None:
    cells = [
        cell("kube-proxy", "1s", verdict(Status.FAIL, "first")),
        cell("kube-proxy", "5s", verdict(Status.FAIL, "second")),
    ]
    (rolling,) = transfers(cells)
    assert not rolling.flips
    assert rolling.sentence == "rolling fails in all 2 cells: first"


def test_holding_everywhere_and_no_verdict() -> None:
    cells = [
        cell("per-request", "1s", verdict(Status.PASS), verdict(Status.PASS, sla_id="p95")),
        cell("kube-proxy", "1s", verdict(Status.PASS)),  # could not judge p95 here
    ]
    rolling, p95 = transfers(cells)
    assert rolling.sentence == "rolling holds in all 2 cells"
    assert p95.sentence == "p95 holds at data_plane=per-request, delay=1s; has no verdict at " + (
        "data_plane=kube-proxy, delay=1s"
    )
    assert not p95.flips


def test_required_no_data_fails_optional_no_data_is_unjudged() -> None:
    optional = Verdict("rolling", "availability", Status.NO_DATA, None, 0.0, "load", "none",
                       optional=True)  # fmt: skip
    cells = [cell("a", "1s", verdict(Status.NO_DATA, "no requests")), cell("a", "2s", optional)]
    (rolling,) = transfers(cells)
    assert [c.settings[1][1] for c in rolling.fails] == ["1s"]
    assert [c.settings[1][1] for c in rolling.unjudged] == ["2s"]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        pytest.param(
            [cell("a", "1s"), cell("a", "5s"), cell("b", "1s"), cell("b", "5s")],
            "data_plane=a and b, delay=1s and 5s",
            id="full-product",
        ),
        pytest.param(
            [cell("a", "1s"), cell("b", "5s")],
            "data_plane=a, delay=1s; data_plane=b, delay=5s",
            id="diagonal-listed-cell-by-cell",
        ),
        pytest.param([cell("a", "1s")], "data_plane=a, delay=1s", id="one-cell"),
    ],
)
def test_describe_cells(cells: list[CellVerdicts], expected: str) -> None:
    assert describe_cells(cells) == expected


def test_one_cell_is_the_one_cell() -> None:
    (rolling,) = transfers([cell("a", "1s", verdict(Status.FAIL, "why"))])
    assert rolling.sentence == "rolling fails in the one cell: why"
