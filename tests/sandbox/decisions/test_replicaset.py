"""ReplicaSet decisions: availability with minReadySeconds, status counts, victim order."""

from __future__ import annotations

import pytest

from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.decisions.replicaset import (
    PodView,
    ReplicaSetCounts,
    ReplicaSetPlan,
    deletion_order,
    is_available,
    plan_replica_set,
    replica_set_counts,
)


@pytest.mark.parametrize(
    ("pod", "min_ready_s", "now_s", "available"),
    [
        pytest.param(PodView("p", 0.0, ready=False), 0, 100.0, False, id="not-ready"),
        pytest.param(PodView("p", 0.0, ready=True, ready_since_s=99.0), 0, 100.0, True, id="0s"),
        # Ready at 90 s, minReadySeconds 10: 90 + 10 <= 100 holds at exactly 100 s
        pytest.param(PodView("p", 0.0, ready=True, ready_since_s=90.0), 10, 100.0, True, id="edge"),
        pytest.param(
            PodView("p", 0.0, ready=True, ready_since_s=90.0), 10, 99.5, False, id="before"
        ),
        pytest.param(
            PodView("p", 0.0, ready=True, ready_since_s=90.0), 10, 100.5, True, id="after"
        ),
        pytest.param(PodView("p", 0.0, ready=True), 10, 100.0, False, id="no-transition-time"),
    ],
)
def test_is_available(pod: PodView, min_ready_s: int, now_s: float, available: bool) -> None:
    assert is_available(pod, min_ready_s, now_s) is available


def test_counts_skip_terminating_and_finished_pods() -> None:
    pods = [
        PodView("ready", 0.0, ready=True, ready_since_s=0.0),
        PodView("fresh", 0.0, ready=True, ready_since_s=95.0),
        PodView("starting", 0.0),
        PodView("leaving", 0.0, ready=True, ready_since_s=0.0, deleting=True),
        PodView("done", 0.0, phase=PodPhase.SUCCEEDED),
    ]

    counts = replica_set_counts(pods, 10, 100.0)

    assert counts == ReplicaSetCounts(replicas=3, ready=2, available=1)


def test_plan_creates_missing_pods_ignoring_terminating() -> None:
    pods = [PodView("a", 0.0), PodView("b", 0.0, deleting=True)]

    assert plan_replica_set(3, pods) == ReplicaSetPlan(2, ())


def test_plan_deletes_unready_first() -> None:
    pods = [
        PodView("old-ready", 0.0, ready=True, ready_since_s=5.0),
        PodView("new-unready", 9.0),
        PodView("mid-ready", 3.0, ready=True, ready_since_s=6.0),
    ]

    assert plan_replica_set(1, pods) == ReplicaSetPlan(0, ("new-unready", "mid-ready"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(PodView("a", 0.0, scheduled=False), PodView("b", 0.0), id="unscheduled"),
        pytest.param(
            PodView("a", 0.0, phase=PodPhase.PENDING),
            PodView("b", 0.0, phase=PodPhase.UNKNOWN),
            id="pending-before-unknown",
        ),
        pytest.param(
            PodView("a", 0.0, phase=PodPhase.UNKNOWN),
            PodView("b", 0.0),
            id="unknown-before-running",
        ),
        pytest.param(
            PodView("a", 0.0), PodView("b", 0.0, ready=True, ready_since_s=1.0), id="unready"
        ),
        pytest.param(
            PodView("a", 0.0, deletion_cost=-5), PodView("b", 0.0), id="lower-deletion-cost"
        ),
        pytest.param(
            PodView("a", 0.0, ready=True, ready_since_s=50.0),
            PodView("b", 0.0, ready=True, ready_since_s=10.0),
            id="ready-more-recently",
        ),
        pytest.param(
            PodView("a", 0.0, ready=True),
            PodView("b", 0.0, ready=True, ready_since_s=10.0),
            id="ready-time-unknown",
        ),
        pytest.param(PodView("a", 0.0, restarts=3), PodView("b", 0.0, restarts=1), id="restarts"),
        pytest.param(PodView("a", 20.0), PodView("b", 10.0), id="newer"),
        pytest.param(PodView("a", 0.0), PodView("b", 0.0), id="name-tiebreak"),
    ],
)
def test_deletion_order(first: PodView, second: PodView) -> None:
    assert deletion_order([second, first]) == [first, second]
