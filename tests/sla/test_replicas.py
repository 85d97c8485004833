from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import FlappingSla, MaxReplicasSla
from slagate.sla.replicas import evaluate_flapping, evaluate_max_replicas, hpa_text
from slagate.sla.verdict import Status
from tests.sla.timelines import T0, deploy, hpa, timeline, window

RUN = "run [-2.0 s, 120.0 s]"
RUN_WINDOW = window(-2, 120, name="run")


def max_replicas(maximum: int = 5) -> MaxReplicasSla:
    return MaxReplicasSla(kind="max_replicas", deployment="order", max=maximum)


def flapping(max_changes: int = 1) -> FlappingSla:
    return FlappingSla(kind="flapping", deployment="order", max_changes=max_changes)


def desired_series(*steps: tuple[int, int]) -> list[tuple[Any, ...]]:
    """Deployment rows: ``(seconds after T0, desired)``, ready following at once."""
    return [deploy(s * 1000, d, d) for s, d in steps]


# --- max_replicas ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "status", "measured", "message"),
    [
        pytest.param(
            desired_series((-10, 1), (10, 3), (40, 5), (90, 2)),
            Status.PASS,
            5.0,
            f"order desired replicas max 5 <= 5 in {RUN}",
            id="at-max",
        ),
        pytest.param(
            [*desired_series((-10, 1), (10, 6), (22, 4)), hpa(9900, 7, 80.0), hpa(21_900, 4, 40.0)],
            Status.FAIL,
            7.0,
            f"order desired replicas max 7 > 5 in {RUN}: Deployment above 5 for 12.0 s, "
            "HPA above 5 for 12.0 s",
            id="hpa-and-deployment-above",
        ),
        pytest.param(
            desired_series((-10, 8), (5, 3)),
            Status.FAIL,
            8.0,
            f"order desired replicas max 8 > 5 in {RUN}: Deployment above 5 for 7.0 s",
            id="state-in-force-at-the-start-counts",
        ),
        pytest.param(
            desired_series((-10, 8), (-2, 3), (130, 9)),
            Status.PASS,
            3.0,
            f"order desired replicas max 3 <= 5 in {RUN}",
            id="outside-the-window-ignored",
        ),
    ],
)
def test_max_replicas(
    rows: list[tuple[Any, ...]], status: Status, measured: float, message: str
) -> None:
    verdict = evaluate_max_replicas(max_replicas(), timeline(replicas=rows), RUN_WINDOW)
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.id) == (5.0, "replicas", "max-replicas-order")


def test_max_replicas_evidence_lists_the_states_above() -> None:
    rows = [*desired_series((-10, 1), (10, 6), (22, 4)), hpa(9900, 7, 80.0), hpa(21_900, 4, 40.0)]
    verdict = evaluate_max_replicas(max_replicas(), timeline(replicas=rows), RUN_WINDOW)
    assert [(e.t_ms - T0, e.text) for e in verdict.evidence] == [
        (
            9900,
            "HPA order: CPU 80% of request (target 50%), desired 7, current 7: desired > 5 "
            "until 22:13:41.900 UTC",
        ),
        (10_000, "Deployment order: desired 6 > 5 until 22:13:42.000 UTC, ready 6"),
    ]


def test_max_replicas_without_rows_is_no_data() -> None:
    rows = desired_series((0, 9))
    verdict = evaluate_max_replicas(
        MaxReplicasSla(kind="max_replicas", deployment="product", max=5),
        timeline(replicas=rows),
        RUN_WINDOW,
    )
    assert (verdict.status, verdict.measured, verdict.message) == (
        Status.NO_DATA,
        None,
        f"no data: no replicas recorded for Deployment product in {RUN}",
    )


# --- flapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "status", "reversals", "sequence"),
    [
        pytest.param([(-10, 3)], Status.PASS, 0, "3 throughout", id="no-change"),
        pytest.param(
            [(-10, 1), (10, 3), (20, 5), (60, 2)],
            Status.PASS,
            1,
            "1 -> 3 -> 5 -> 2",
            id="out-then-in-is-one",
        ),
        pytest.param(
            [(-10, 1), (10, 3), (20, 5), (40, 2), (50, 4)],
            Status.FAIL,
            2,
            "1 -> 3 -> 5 -> 2 -> 4",
            id="up-down-up-is-two",
        ),
        pytest.param(
            [(-10, 1), (10, 3), (15, 3), (20, 3), (60, 1)],
            Status.PASS,
            1,
            "1 -> 3 -> 1",
            id="repeated-values-are-no-change",
        ),
        pytest.param(
            [(-10, 4), (10, 3), (20, 4), (30, 3), (40, 4)],
            Status.FAIL,
            3,
            "4 -> 3 -> 4 -> 3 -> 4",
            id="down-first",
        ),
        pytest.param(
            [(-10, 1), (10, 3), (125, 1)], Status.PASS, 0, "1 -> 3", id="after-the-window-ignored"
        ),
    ],
)
def test_flapping(
    steps: list[tuple[int, int]], status: Status, reversals: int, sequence: str
) -> None:
    verdict = evaluate_flapping(flapping(), timeline(replicas=desired_series(*steps)), RUN_WINDOW)
    sign = ">" if status is Status.FAIL else "<="
    assert (verdict.status, verdict.measured, verdict.message) == (
        status,
        float(reversals),
        f"order scaling reversals {reversals} {sign} 1 in {RUN}: desired {sequence}",
    )
    assert (verdict.threshold, verdict.unit, verdict.id) == (1.0, "reversals", "flapping-order")


def test_flapping_evidence_is_the_sequence_with_times() -> None:
    rows = desired_series((-10, 1), (10, 3), (20, 5), (40, 2), (50, 4))
    verdict = evaluate_flapping(flapping(), timeline(replicas=rows), RUN_WINDOW)
    assert [(e.t_ms - T0, e.text) for e in verdict.evidence] == [
        (10_000, "desired 1 -> 3 (up)"),
        (20_000, "desired 3 -> 5 (up)"),
        (40_000, "desired 5 -> 2 (down, reversal)"),
        (50_000, "desired 2 -> 4 (up, reversal)"),
    ]


def test_flapping_ignores_the_hpa_and_other_deployments() -> None:
    rows = [
        *desired_series((-10, 1), (10, 3)),
        hpa(20_000, 1, 5.0),
        hpa(30_000, 3, 90.0),
        deploy(40_000, 1, 1, name="product"),
    ]
    verdict = evaluate_flapping(flapping(0), timeline(replicas=rows), RUN_WINDOW)
    assert (verdict.status, verdict.measured) == (Status.PASS, 0.0)


def test_flapping_without_rows_is_no_data() -> None:
    verdict = evaluate_flapping(flapping(), timeline(), RUN_WINDOW)
    assert (verdict.status, verdict.message) == (
        Status.NO_DATA,
        f"no data: no replicas recorded for Deployment order in {RUN}",
    )


@pytest.mark.parametrize(
    ("metric_name", "text"),
    [
        pytest.param(None, "HPA order: CPU 80% of request (target 50%)", id="recorded-before"),
        pytest.param("memory", "HPA order: memory 80% of request (target 50%)", id="memory"),
        pytest.param(
            "memory average value",
            "HPA order: memory 80% of the target average value (target 50%)",
            id="average-value",
        ),
    ],
)
def test_an_hpa_row_names_its_metric_and_what_its_percent_is_of(
    metric_name: str | None, text: str
) -> None:
    row = {"name": "order", "metric_value": 80.0, "metric_target": 50.0, "desired": 7}
    row |= {"current": 7, "metric_name": metric_name}

    assert hpa_text(row) == f"{text}, desired 7, current 7"
