"""Upstream's rollout-progress table, replayed against ``decisions.deployment_status``.

Source: kubernetes/kubernetes pkg/controller/deployment/progress_test.go,
TestSyncRolloutStatus, read at commit 04791b4906602ffda5ccf9bc4c84d3329f1d7080 (apps/v1).
Inputs and expected outputs are transcribed; the code is ours. Target:
``synced_status`` (upstream ``syncRolloutStatus``).

Upstream's fixtures, restated: ``currentDeployment(pds, replicas, statusReplicas,
updated, available, conditions)`` is a Recreate Deployment, generation observed;
``newRSWithAvailable(name, spec, status, available)`` has no ready count. The
ReplicaSetUpdated and NewReplicaSetAvailable conditions carry lastUpdateTime and
lastTransitionTime 2017-02-15 18:49:00 UTC (``testTime``); the timed-out one carries none.
Upstream syncs at the real clock, years after ``testTime``. Upstream's own check of the
two times compares the table's field with ``testTime`` rather than the condition's, so it
cannot fail; here the times are checked on the condition for the cases whose name states
the rule ("dont update lastTransitionTime") and the one-active-ReplicaSet case.

Not replayed, with the reason: TestRequeueStuckDeployment. The sandbox computes that
delay inside the controller loop (``controllermanager.deploying``), not in a pure
function; an infinite progressDeadlineSeconds (MaxInt32) is read as no deadline there.
"""

from __future__ import annotations

import pytest

from slagate.sandbox.decisions.conditions import Condition, find_condition
from slagate.sandbox.decisions.deployment_status import (
    NEW_RS_AVAILABLE,
    PROGRESSING,
    RS_UPDATED,
    TIMED_OUT,
    synced_status,
)
from slagate.sandbox.decisions.deployments import (
    DeploymentStatus,
    DeploymentView,
    ReplicaSetView,
    StrategyType,
)

TEST_TIME = 1_487_184_540.0  # 2017-02-15 18:49:00 UTC
NOW = TEST_TIME + 10 * 365 * 86_400.0
TIMED_OUT_COND = Condition(PROGRESSING, False, TIMED_OUT, "")
NEW_RS_AVAILABLE_COND = Condition(PROGRESSING, True, NEW_RS_AVAILABLE, "", TEST_TIME, TEST_TIME)
RS_UPDATED_COND = Condition(PROGRESSING, True, RS_UPDATED, "", TEST_TIME, TEST_TIME)


def current(
    pds: int | None, replicas: int, counts: tuple[int, int, int], *conditions: Condition
) -> DeploymentView:
    """``currentDeployment``: counts are (status replicas, updated, available)."""
    status = DeploymentStatus(
        observed_generation=1,
        replicas=counts[0],
        updated_replicas=counts[1],
        available_replicas=counts[2],
        conditions=conditions,
    )
    return DeploymentView(
        "progress-test",
        replicas,
        "hash",
        strategy=StrategyType.RECREATE,
        progress_deadline_s=pds,
        status=status,
    )


def rs(name: str, spec: int, status: int, available: int) -> ReplicaSetView:
    """``newRSWithAvailable``."""
    return ReplicaSetView(name, "hash", 0.0, spec, replicas=status, available_replicas=available)


# (d, other ReplicaSets, new ReplicaSet) -> Progressing (status, reason) or None for no
# condition; and, where checked, (lastUpdateTime, lastTransitionTime) or the condition
# left exactly as it was ("same").
_CASES = [
    (
        "General: remove Progressing condition and do not estimate progress if"
        " deployment has no Progress Deadline",
        current(None, 3, (2, 2, 2), RS_UPDATED_COND),
        [rs("bar", 0, 1, 1)],
        rs("foo", 3, 2, 2),
        None,
        None,
    ),
    (
        "General: do not estimate progress of deployment with only one active ReplicaSet",
        current(60, 3, (3, 3, 3), NEW_RS_AVAILABLE_COND),
        [rs("bar", 3, 3, 3)],
        None,
        (True, NEW_RS_AVAILABLE),
        (TEST_TIME, TEST_TIME),
    ),
    (
        "DeploymentProgressing: dont update lastTransitionTime if deployment already has"
        " Progressing=True",
        current(60, 3, (2, 2, 2), RS_UPDATED_COND),
        [rs("bar", 0, 1, 1)],
        rs("foo", 3, 2, 2),
        (True, RS_UPDATED),
        (NOW, TEST_TIME),
    ),
    (
        "DeploymentProgressing: update everything if deployment has Progressing=False",
        current(60, 3, (2, 2, 2), TIMED_OUT_COND),
        [rs("bar", 0, 1, 1)],
        rs("foo", 3, 2, 2),
        (True, RS_UPDATED),
        (NOW, NOW),
    ),
    (
        "DeploymentProgressing: create Progressing condition if it does not exist",
        current(60, 3, (2, 2, 2)),
        [rs("bar", 0, 1, 1)],
        rs("foo", 3, 2, 2),
        (True, RS_UPDATED),
        None,
    ),
    (
        "DeploymentComplete: dont update lastTransitionTime if deployment already has"
        " Progressing=True",
        current(60, 3, (3, 3, 3), RS_UPDATED_COND),
        [],
        rs("foo", 3, 3, 3),
        (True, NEW_RS_AVAILABLE),
        (NOW, TEST_TIME),
    ),
    (
        "DeploymentComplete: update everything if deployment has Progressing=False",
        current(60, 3, (3, 3, 3), TIMED_OUT_COND),
        [],
        rs("foo", 3, 3, 3),
        (True, NEW_RS_AVAILABLE),
        (NOW, NOW),
    ),
    (
        "DeploymentComplete: create Progressing condition if it does not exist",
        current(60, 3, (3, 3, 3)),
        [],
        rs("foo", 3, 3, 3),
        (True, NEW_RS_AVAILABLE),
        None,
    ),
    (
        "DeploymentComplete: defend against NPE when newRS=nil",
        current(60, 0, (3, 3, 3), RS_UPDATED_COND),
        [rs("foo", 0, 0, 0)],
        None,
        (True, NEW_RS_AVAILABLE),
        None,
    ),
    (
        "DeploymentTimedOut: update status if rollout exceeds Progress Deadline",
        current(60, 3, (2, 2, 2), RS_UPDATED_COND),
        [],
        rs("foo", 3, 2, 2),
        (False, TIMED_OUT),
        (NOW, NOW),
    ),
    (
        "DeploymentTimedOut: do not update status if deployment has existing timedOut condition",
        current(60, 3, (2, 2, 2), TIMED_OUT_COND),
        [],
        rs("foo", 3, 2, 2),
        (False, TIMED_OUT),
        "same",
    ),
]
CASES = [pytest.param(*case[1:], id=case[0].replace(" ", "_")) for case in _CASES]


@pytest.mark.parametrize(("d", "others", "new_rs", "expected", "times"), CASES)
def test_sync_rollout_status(
    d: DeploymentView,
    others: list[ReplicaSetView],
    new_rs: ReplicaSetView | None,
    expected: tuple[bool, str] | None,
    times: tuple[float, float] | str | None,
) -> None:
    all_rs = [*others, new_rs] if new_rs is not None else others

    status = synced_status(d, all_rs, new_rs, NOW)

    condition = find_condition(status.conditions, PROGRESSING)
    if expected is None:
        assert condition is None
        return
    assert condition is not None
    assert (condition.status, condition.reason) == expected
    if times == "same":
        assert condition == find_condition(d.status.conditions, PROGRESSING)
    elif times is not None:
        assert (condition.last_update_s, condition.last_transition_s) == times
