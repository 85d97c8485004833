from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import NoLostWritesSla
from slagate.sla.lost_writes import evaluate_no_lost_writes
from slagate.sla.verdict import Status, Verdict
from tests.sla.timelines import T0, ack, check, timeline, window

RUN = "run [-2.0 s, 120.0 s]"
RUN_WINDOW = window(-2, 120, name="run")
ACKS = [ack(1000, "o-1"), ack(2000, "o-2"), ack(3000, "o-3"), ack(4000, "other", kind="product")]


def no_lost_writes(max_lost: int = 0) -> NoLostWritesSla:
    return NoLostWritesSla(kind="no_lost_writes", ack_kind="order", max_lost=max_lost)


def judge(checks: list[tuple[Any, ...]], max_lost: int = 0, acks: Any = ACKS) -> Verdict:
    tl = timeline(acks=acks, integrity=checks)
    return evaluate_no_lost_writes(no_lost_writes(max_lost), tl, RUN_WINDOW)


@pytest.mark.parametrize(
    ("checks", "max_lost", "status", "measured", "message"),
    [
        pytest.param(
            [check(110_000, k, True) for k in ("o-1", "o-2", "o-3")],
            0,
            Status.PASS,
            0.0,
            f"lost order writes 0 <= 0 in {RUN}: 0 of 3 acknowledged writes not readable "
            "after the run",
            id="all-read-back",
        ),
        pytest.param(
            [
                check(110_000, "o-1", True),
                check(110_100, "o-2", False, 404),
                check(110_200, "o-3", False, 0),
            ],
            0,
            Status.FAIL,
            2.0,
            f"lost order writes 2 > 0 in {RUN}: 2 of 3 acknowledged writes not readable "
            "after the run",
            id="two-lost",
        ),
        pytest.param(
            [
                check(110_000, "o-1", True),
                check(110_100, "o-2", False, 404),
                check(110_200, "o-3", True),
            ],
            1,
            Status.PASS,
            1.0,
            f"lost order writes 1 <= 1 in {RUN}: 1 of 3 acknowledged writes not readable "
            "after the run",
            id="within-max-lost",
        ),
        pytest.param(
            [
                check(110_000, "o-1", False, 503),
                check(111_000, "o-1", True),
                check(110_000, "o-2", True),
                check(110_000, "o-3", None, None),
            ],
            0,
            Status.FAIL,
            1.0,
            f"lost order writes 1 > 0 in {RUN}: 1 of 3 acknowledged writes not readable "
            "after the run",
            id="last-check-counts-unknown-is-lost",
        ),
        pytest.param(
            [check(110_000, "o-1", True), check(110_000, "o-2", True)],
            0,
            Status.PASS,
            0.0,
            f"lost order writes 0 <= 0 in {RUN}: 0 of 2 acknowledged writes not readable "
            "after the run; 1 acknowledged not read back",
            id="unchecked-named",
        ),
    ],
)
def test_no_lost_writes(
    checks: list[tuple[Any, ...]], max_lost: int, status: Status, measured: float, message: str
) -> None:
    verdict = judge(checks, max_lost)
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.id) == (
        float(max_lost),
        "writes",
        "no-lost-orders",
    )


def test_evidence_lists_lost_keys_with_their_ack_times() -> None:
    checks = [
        check(110_000, "o-1", True),
        check(110_100, "o-3", False, 404),
        check(110_200, "o-2", False, 0),
    ]
    assert [(e.t_ms, e.text) for e in judge(checks).evidence] == [
        (T0 + 2000, "order o-2 acknowledged; read back: connection error"),
        (T0 + 3000, "order o-3 acknowledged; read back: status 404"),
    ]


def test_evidence_is_capped() -> None:
    acks = [ack(i, f"o-{i}") for i in range(12)]
    checks = [check(110_000, f"o-{i}", False, 404) for i in range(12)]
    evidence = judge(checks, acks=acks).evidence
    assert len(evidence) == 11
    assert (evidence[-1].t_ms, evidence[-1].text) == (
        T0 + 10,
        "... 2 more lost writes not listed",
    )


@pytest.mark.parametrize(
    ("acks", "checks", "message"),
    [
        pytest.param(
            ACKS,
            [],
            f"no data: the read-back did not run: none of the 3 order writes acknowledged "
            f"was checked in {RUN}",
            id="read-back-did-not-run",
        ),
        pytest.param(
            ACKS,
            [check(110_000, "other", True, kind="product")],
            f"no data: the read-back did not run: none of the 3 order writes acknowledged "
            f"was checked in {RUN}",
            id="only-other-kinds-checked",
        ),
        pytest.param([], [], f"no data: no order write acknowledged in {RUN}", id="no-acks"),
        pytest.param(
            [ack(130_000, "o-9")],
            [check(131_000, "o-9", True)],
            f"no data: no order write acknowledged in {RUN}",
            id="acks-outside-the-window",
        ),
    ],
)
def test_no_data(acks: list[tuple[Any, ...]], checks: list[tuple[Any, ...]], message: str) -> None:
    verdict = judge(checks, acks=acks)
    assert (verdict.status, verdict.measured, verdict.message) == (Status.NO_DATA, None, message)
