"""Upstream's pod-ranking tables, replayed against ``decisions.replicaset``.

Source: kubernetes/kubernetes pkg/controller/controller_utils_test.go, read as stored blob
443958645 of the search index, which gives no commit for it (the version with
PodDeletionCost and LogarithmicScaleDown). Tables: TestActivePodFiltering,
TestSortingActivePods, TestSortingActivePodsWithRanks. Inputs and expected outputs are
transcribed; the code is ours. Targets: ``is_active`` and ``deletion_order`` (upstream's
ActivePodsWithRanks ordering: which pods a ReplicaSet deletes first).

Mapping: upstream's ``now`` is NOW, ``then1Month`` 30 days earlier, the zero time is
"no ready time" (``ready_since_s`` None) or creation time 0. A pod's ``restarts`` is its
highest container restart count, as upstream compares it. A pod is scheduled when it has
a nodeName.

Not replayed, with the reason:

- The inequality cases whose two pods differ in rank (pods sharing a node with other
  pods of the ReplicaSet) and where that rank decides: 6, 8, 10 and 12. The sandbox runs
  one node, so every pod has the same rank; cases 0, 1 and 13 compare pods of different
  ranks but are decided by an earlier rule, so they replay.
- Inequality case 14: it disables the PodDeletionCost gate, which is on by default; the
  sandbox has no off switch.
- Equality cases 0-8 compare a pod with itself, which holds for any order.

Known gap, marked xfail(strict=True): equality cases 9 and 10. Upstream puts ready and
creation times in log2 buckets of their age (LogarithmicScaleDown), so pods created 5 and
8 hours ago rank alike and a random UID breaks the tie; the sandbox compares the times
exactly (newest first), a documented simplification that keeps scale-down deterministic.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.decisions.replicaset import PodView, deletion_order, is_active

NOW = 1_000_000_000.0
MONTH = NOW - 30 * 86_400.0
HOURS_2, HOURS_5, HOURS_8 = NOW - 2 * 3600.0, NOW - 5 * 3600.0, NOW - 8 * 3600.0
PENDING, UNKNOWN, RUNNING = PodPhase.PENDING, PodPhase.UNKNOWN, PodPhase.RUNNING


def pod(
    name: str,
    node: str,
    phase: PodPhase,
    ready: bool,
    restarts: int,
    ready_since: float | None,
    created: float,
    cost: int = 0,
) -> PodView:
    """Upstream's ``pod(name, node, phase, ready, restarts, readySince, created, ann)``."""
    return PodView(
        name,
        created,
        phase=phase,
        ready=ready,
        ready_since_s=ready_since if ready else None,
        scheduled=bool(node),
        restarts=restarts if ready else 0,
        deletion_cost=cost,
    )


def test_active_pod_filtering() -> None:
    """TestActivePodFiltering: Succeeded and Failed pods are not active."""
    phases = [PodPhase.SUCCEEDED, PodPhase.FAILED, RUNNING, RUNNING, RUNNING]
    pods = [PodView(f"pod-{i + 1}", 0.0, phase=p) for i, p in enumerate(phases)]

    assert [p.name for p in pods if is_active(p)] == ["pod-3", "pod-4", "pod-5"]


def test_sorting_active_pods() -> None:
    """TestSortingActivePods "Sorts by active pod": the whole order, from any input order."""
    pods = [
        PodView("unscheduled", 0.0, phase=PENDING, scheduled=False),
        PodView("scheduledButPending", 0.0, phase=PENDING),
        PodView("unknownPhase", 0.0, phase=UNKNOWN),
        PodView("runningButNotReady", 0.0),
        PodView("runningNoLastTransitionTime", 0.0, ready=True, restarts=3),
        PodView("runningWithLastTransitionTime", 0.0, ready=True, ready_since_s=NOW, restarts=3),
        PodView("runningLongerTime", 0.0, ready=True, ready_since_s=MONTH, restarts=3),
        PodView("lowerContainerRestartCount", NOW, ready=True, ready_since_s=MONTH, restarts=2),
        PodView("oldest", MONTH, ready=True, ready_since_s=MONTH, restarts=2),
    ]
    want = [p.name for p in pods]

    for shift in range(len(pods)):
        shuffled = pods[shift:] + pods[:shift]
        assert [p.name for p in deletion_order(shuffled)] == want
        assert [p.name for p in deletion_order(list(reversed(shuffled)))] == want


UNSCHEDULED = pod("unscheduled", "", PENDING, False, 0, None, 0.0)
SCHEDULED_PENDING = pod("pending", "node", PENDING, False, 0, None, 0.0)
UNKNOWN_PHASE = pod("unknown-phase", "node", UNKNOWN, False, 0, None, 0.0)
NOT_READY = pod("not-ready", "node", RUNNING, False, 0, None, 0.0)
READY_NO_TRANSITION = pod("ready-no-last-transition-time", "node", RUNNING, True, 0, None, 0.0)
READY_NOW = pod("ready-now", "node", RUNNING, True, 0, NOW, NOW)
READY_THEN = pod("ready-then", "node", RUNNING, True, 0, MONTH, MONTH)
READY_HIGH_RESTARTS = pod("ready-high-restarts", "node", RUNNING, True, 9001, NOW, NOW)
READY_NOW_CREATED_THEN = pod("ready-now-created-then", "node", RUNNING, True, 0, NOW, MONTH)
LOW_COST = pod("low-deletion-cost", "node", RUNNING, True, 0, NOW, MONTH, cost=10)
HIGH_COST = pod("high-deletion-cost", "node", RUNNING, True, 0, NOW, MONTH, cost=100)
UNSCHEDULED_5H = pod("unscheduled-5-hours", "", PENDING, False, 0, HOURS_5, HOURS_5)
UNSCHEDULED_8H = pod("unscheduled-10-hours", "", PENDING, False, 0, HOURS_8, HOURS_8)
READY_2H = pod("ready-2-hours", "", RUNNING, True, 0, HOURS_2, MONTH)
READY_5H = pod("ready-5-hours", "", RUNNING, True, 0, HOURS_5, MONTH)
READY_8H = pod("ready-10-hours", "", RUNNING, True, 0, HOURS_8, MONTH)

# TestSortingActivePodsWithRanks, inequality tests: (lesser, greater) by upstream index.
INEQUALITY = [
    pytest.param(UNSCHEDULED, SCHEDULED_PENDING, id="Inequality_tests_0"),
    pytest.param(UNSCHEDULED, SCHEDULED_PENDING, id="Inequality_tests_1"),
    pytest.param(SCHEDULED_PENDING, UNKNOWN_PHASE, id="Inequality_tests_2"),
    pytest.param(UNKNOWN_PHASE, NOT_READY, id="Inequality_tests_3"),
    pytest.param(NOT_READY, READY_NO_TRANSITION, id="Inequality_tests_4"),
    pytest.param(READY_NO_TRANSITION, READY_NOW, id="Inequality_tests_5"),
    pytest.param(READY_NOW, READY_THEN, id="Inequality_tests_7"),
    pytest.param(READY_HIGH_RESTARTS, READY_NOW, id="Inequality_tests_9"),
    pytest.param(READY_NOW, READY_NOW_CREATED_THEN, id="Inequality_tests_11"),
    pytest.param(LOW_COST, HIGH_COST, id="Inequality_tests_13"),
    pytest.param(READY_2H, READY_5H, id="Inequality_tests_15"),
]


@pytest.mark.parametrize(("lesser", "greater"), INEQUALITY)
def test_sorting_active_pods_with_ranks_inequality(lesser: PodView, greater: PodView) -> None:
    """The lesser pod goes first, whichever order the two come in."""
    assert deletion_order([greater, lesser]) == [lesser, greater]
    assert deletion_order([lesser, greater]) == [lesser, greater]


GAP = pytest.mark.xfail(
    strict=True,
    reason="times compare exactly, not in LogarithmicScaleDown's log2 buckets",
)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(UNSCHEDULED_5H, UNSCHEDULED_8H, id="Equality_tests_9", marks=GAP),
        pytest.param(READY_5H, READY_8H, id="Equality_tests_10", marks=GAP),
    ],
)
def test_sorting_active_pods_with_ranks_equality(first: PodView, second: PodView) -> None:
    """Equivalent pods: with their names made equal, neither goes first, so the order
    stays as given."""
    a, b = replace(first, name="x"), replace(second, name="x")

    assert deletion_order([a, b]) == [a, b]
    assert deletion_order([b, a]) == [b, a]
