"""Upstream's Deployment helper tables, replayed against the sandbox's rollout decisions.

Source: kubernetes/kubernetes pkg/controller/deployment/util/deployment_util_test.go, read
as stored blob 695379464 of the search index, which gives no commit for it: the version
with ``TerminatingReplicas`` and ``TestGetReplicaSetFraction``. Inputs and expected outputs are
transcribed; the code is ours. Targets: ``decisions.fenceposts``,
``decisions.deployments.DeploymentView``, ``decisions.rollout`` (new-ReplicaSet size,
proportional fraction), ``decisions.deployment_status`` and ``decisions.conditions``.

Upstream's fixtures, restated: ``generateDeployment`` has generation 0 and 1 replica; the
tables here set replicas, strategy, maxSurge and maxUnavailable. A nil maxSurge or
maxUnavailable reaches ``ResolveFenceposts`` as 0 (``ValueOrDefault(..., 0)``), so it is
replayed as 0.

Not replayed, with the reason:

- TestEqualIgnoreHash, TestFindNewReplicaSet, TestFindOldReplicaSets: the sandbox tells the
  new ReplicaSet by a hash of the template computed where it reads objects, not by
  comparing templates, so these inputs (pod templates) have no counterpart in decisions/.
- TestGetReplicaCountForReplicaSets (terminatingReplicas), TestGetNonNegativeInt32From-
  Annotation, TestAnnotationUtils, TestReplicasAnnotationsNeedUpdate,
  TestGetDeploymentsForReplicaSet: annotation parsing, listers and the alpha
  DeploymentReplicaSetTerminatingReplicas status live outside the pure decisions.
- TestMinAvailable: the sandbox has no separate function; the rolling path computes
  ``replicas - maxUnavailable`` inline from the value TestMaxUnavailable checks.
"""

from __future__ import annotations

import pytest

from slagate.errors import ConfigError
from slagate.sandbox.decisions.conditions import (
    Condition,
    find_condition,
    remove_condition,
    set_deployment_condition,
)
from slagate.sandbox.decisions.deployment_status import (
    NEW_RS_AVAILABLE,
    PROGRESSING,
    deployment_complete,
    made_progress,
    timed_out,
)
from slagate.sandbox.decisions.deployments import (
    DeploymentStatus,
    DeploymentView,
    ReplicaSetView,
    StrategyType,
)
from slagate.sandbox.decisions.fenceposts import Fenceposts, IntOrPercent, resolve_fenceposts
from slagate.sandbox.decisions.rollout import new_replica_set_size, replica_set_fraction

ROLLING, RECREATE = StrategyType.ROLLING_UPDATE, StrategyType.RECREATE


def deployment(
    replicas: int,
    max_surge: IntOrPercent = 1,
    max_unavailable: IntOrPercent = 1,
    strategy: StrategyType = ROLLING,
    status: DeploymentStatus | None = None,
    progress_deadline_s: int | None = None,
) -> DeploymentView:
    return DeploymentView(
        "nginx",
        replicas,
        "hash",
        generation=0,
        strategy=strategy,
        max_surge=max_surge,
        max_unavailable=max_unavailable,
        progress_deadline_s=progress_deadline_s,
        status=status or DeploymentStatus(),
    )


# TestResolveFenceposts: (maxSurge, maxUnavailable, desired) -> (surge, unavailable).
FENCEPOSTS = [
    pytest.param("0%", "0%", 0, Fenceposts(0, 1), id="0"),
    pytest.param("39%", "39%", 10, Fenceposts(4, 3), id="1"),
    pytest.param(0, "39%", 10, Fenceposts(0, 3), id="4-nil-surge"),
    pytest.param("39%", 0, 10, Fenceposts(4, 0), id="5-nil-unavailable"),
    pytest.param(0, 0, 10, Fenceposts(0, 1), id="6-both-nil"),
]


@pytest.mark.parametrize(("surge", "unavailable", "desired", "expected"), FENCEPOSTS)
def test_resolve_fenceposts(
    surge: IntOrPercent, unavailable: IntOrPercent, desired: int, expected: Fenceposts
) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(
    ("surge", "unavailable"),
    [pytest.param("oops", "39%", id="2"), pytest.param("55%", "urg", id="3")],
)
def test_resolve_fenceposts_rejects(surge: str, unavailable: str) -> None:
    """TestResolveFenceposts cases 2 and 3: upstream returns an error."""
    with pytest.raises(ConfigError, match="maxSurge/maxUnavailable"):
        resolve_fenceposts(surge, unavailable, 10)


# TestNewRSNewReplicas: the other ReplicaSets are one of 5 replicas; maxUnavailable 1.
NEW_RS = [
    pytest.param(ROLLING, 1, 5, 1, 5, id="can_not_scale_up_-_to_newRSReplicas"),
    pytest.param(ROLLING, 6, 2, 10, 6, id="scale_up_-_to_depReplicas"),
    pytest.param(RECREATE, 3, 1, 1, 3, id="recreate_-_to_depReplicas"),
]


@pytest.mark.parametrize(("strategy", "replicas", "new_rs", "surge", "expected"), NEW_RS)
def test_new_rs_new_replicas(
    strategy: StrategyType, replicas: int, new_rs: int, surge: int, expected: int
) -> None:
    d = deployment(replicas, max_surge=surge, strategy=strategy)
    rs5 = ReplicaSetView("rs5", "hash", 0.0, 5)
    new = ReplicaSetView("new", "hash", 1.0, new_rs)

    assert new_replica_set_size(d, [rs5], new) == expected


# TestMaxUnavailable: maxSurge 1.
MAX_UNAVAILABLE = [
    pytest.param(deployment(10, max_unavailable=5), 5, id="maxUnavailable_less_than_replicas"),
    pytest.param(deployment(10, max_unavailable=10), 10, id="maxUnavailable_equal_replicas"),
    pytest.param(deployment(5, max_unavailable=10), 5, id="maxUnavailable_greater_than_replicas"),
    pytest.param(deployment(0, max_unavailable=10), 0, id="maxUnavailable_with_replicas_is_0"),
    pytest.param(
        deployment(1, strategy=RECREATE), 0, id="maxUnavailable_with_Recreate_deployment_strategy"
    ),
    pytest.param(
        deployment(10, max_unavailable="50%"),
        5,
        id="maxUnavailable_less_than_replicas_with_percents",
    ),
    pytest.param(
        deployment(10, max_unavailable="100%"),
        10,
        id="maxUnavailable_equal_replicas_with_percents",
    ),
    pytest.param(
        deployment(5, max_unavailable="100%"),
        5,
        id="maxUnavailable_greater_than_replicas_with_percents",
    ),
]


@pytest.mark.parametrize(("d", "expected"), MAX_UNAVAILABLE)
def test_max_unavailable(d: DeploymentView, expected: int) -> None:
    assert d.unavailable == expected


# TestGetReplicaSetFraction: maxUnavailable 1; (replicas, status.replicas, maxSurge,
# rs size, max-replicas annotation or None) -> fraction.
FRACTION = [
    ("empty deployment always scales to 0", 0, 0, 0, 10, None, -10),
    (
        "unsynced deployment does not scale when max-replicas annotation is missing"
        " (removed by a 3rd party)",
        10,
        0,
        0,
        5,
        None,
        0,
    ),
    (
        "unsynced deployment does not scale when max-replicas annotation is incorrectly"
        " set to 0 (by a 3rd party)",
        10,
        0,
        0,
        5,
        0,
        0,
    ),
    (
        "scale up by 1/5 should increase RS replicas by 1/5 when max-replicas annotation"
        " is missing (removed by a 3rd party)",
        120,
        100,
        0,
        50,
        None,
        10,
    ),
    (
        "scale up by 1/5 should increase RS replicas by 1/5 when max-replicas annotation"
        " is incorrectly set to 0 (by a 3rd party)",
        120,
        100,
        0,
        50,
        0,
        10,
    ),
    ("scale up by 1/5 should increase RS replicas by 1/5", 120, 0, 0, 50, 100, 10),
    (
        "scale up with maxSurge by 1/5 should increase RS replicas approximately by 1/5",
        120,
        0,
        10,
        50,
        110,
        9,
    ),
    ("scale down by 1/6 should decrease RS replicas by 1/6", 10, 0, 0, 6, 12, -1),
    (
        "scale down with maxSurge by 1/6 should decrease RS replicas approximately by 1/6",
        100,
        0,
        10,
        50,
        130,
        -8,
    ),
]


@pytest.mark.parametrize(
    ("replicas", "status_replicas", "surge", "size", "annotation", "expected"),
    [pytest.param(*case[1:], id=case[0].replace(" ", "_")) for case in FRACTION],
)
def test_get_replica_set_fraction(
    replicas: int,
    status_replicas: int,
    surge: int,
    size: int,
    annotation: int | None,
    expected: int,
) -> None:
    d = deployment(replicas, max_surge=surge, status=DeploymentStatus(replicas=status_replicas))
    rs = ReplicaSetView("rs", "hash", 0.0, size, max_replicas=annotation)

    assert replica_set_fraction(d, rs) == expected


# TestDeploymentComplete: (desired, current, updated, available, maxUnavailable, maxSurge).
COMPLETE = [
    pytest.param(
        (5, 5, 5, 4, 1, 0), False, id="not_complete:_min_but_not_all_pods_become_available"
    ),
    pytest.param((5, 5, 5, 3, 1, 0), False, id="not_complete:_min_availability_is_not_honored"),
    pytest.param((5, 5, 5, 5, 0, 0), True, id="complete"),
    pytest.param(
        (5, 5, 4, 5, 0, 0), False, id="not_complete:_all_pods_are_available_but_not_updated"
    ),
    pytest.param((1, 2, 1, 1, 0, 1), False, id="not_complete:_still_running_old_pods"),
    pytest.param(
        (1, 1, 1, 0, 1, 1), False, id="not_complete:_one_replica_deployment_never_comes_up"
    ),
]


@pytest.mark.parametrize(("numbers", "expected"), COMPLETE)
def test_deployment_complete(numbers: tuple[int, ...], expected: bool) -> None:
    desired, current, updated, available, unavailable, surge = numbers
    status = DeploymentStatus(
        replicas=current, updated_replicas=updated, available_replicas=available
    )
    d = deployment(desired, surge, unavailable, status=status)

    assert deployment_complete(d, d.status) is expected


# TestDeploymentProgressing: (replicas, updated, ready, available) before and after.
PROGRESSING_CASES = [
    pytest.param((10, 4, 4, 4), (10, 6, 4, 4), True, id="progressing:_updated_pods"),
    pytest.param((10, 4, 4, 4), (10, 4, 4, 4), False, id="not_progressing"),
    pytest.param((10, 4, 6, 6), (8, 4, 6, 6), True, id="progressing:_old_pods_removed"),
    pytest.param((10, 7, 3, 3), (10, 6, 3, 3), False, id="not_progressing:_less_new_pods"),
    pytest.param(
        (10, 4, 7, 7), (8, 8, 5, 5), True, id="progressing:_less_overall_but_more_new_pods"
    ),
    pytest.param((10, 10, 9, 8), (10, 10, 10, 8), True, id="progressing:_more_ready_pods"),
    pytest.param((10, 10, 10, 9), (10, 10, 10, 10), True, id="progressing:_more_available_pods"),
]


def _status(numbers: tuple[int, int, int, int]) -> DeploymentStatus:
    replicas, updated, ready, available = numbers
    return DeploymentStatus(
        replicas=replicas,
        updated_replicas=updated,
        ready_replicas=ready,
        available_replicas=available,
    )


@pytest.mark.parametrize(("old", "new", "expected"), PROGRESSING_CASES)
def test_deployment_progressing(
    old: tuple[int, int, int, int], new: tuple[int, int, int, int], expected: bool
) -> None:
    assert made_progress(_status(old), _status(new)) is expected


def _minute_second(minute: int, second: int) -> float:
    """``timeFn(min, sec)``: 2016-01-01 00:min:sec UTC, in Unix seconds."""
    return 1_451_606_400.0 + minute * 60 + second


# TestDeploymentTimedOut: (progressDeadlineSeconds, condition reason, lastUpdateTime, now).
TIMED_OUT = [
    pytest.param(
        None,
        "",
        _minute_second(1, 9),
        _minute_second(1, 20),
        False,
        id="nil_progressDeadlineSeconds_specified_-_no_timeout",
    ),
    pytest.param(
        2**31 - 1,
        "",
        _minute_second(1, 9),
        _minute_second(1, 20),
        False,
        id="infinite_progressDeadlineSeconds_specified_-_no_timeout",
    ),
    pytest.param(
        10,
        "",
        _minute_second(1, 9),
        _minute_second(1, 20),
        True,
        id="progressDeadlineSeconds:_10s,_now_-_started_=>_00:01:20_-_00:01:09_=>_11s",
    ),
    pytest.param(
        10,
        "",
        _minute_second(1, 11),
        _minute_second(1, 20),
        False,
        id="progressDeadlineSeconds:_10s,_now_-_started_=>_00:01:20_-_00:01:11_=>_9s",
    ),
    pytest.param(
        None,
        NEW_RS_AVAILABLE,
        0.0,
        _minute_second(1, 20),
        False,
        id="previous_status_was_a_complete_deployment",
    ),
]


@pytest.mark.parametrize(("deadline", "reason", "since", "now", "expected"), TIMED_OUT)
def test_deployment_timed_out(
    deadline: int | None, reason: str, since: float, now: float, expected: bool
) -> None:
    condition = Condition(PROGRESSING, True, reason, "", since, since)
    d = deployment(1, progress_deadline_s=deadline)

    assert timed_out(d, DeploymentStatus(conditions=(condition,)), now) is expected


PROGRESSING_FALSE = Condition(PROGRESSING, False, "ForSomeReason", "")
PROGRESSING_TRUE = Condition(PROGRESSING, True, "BecauseItIs", "")
AVAILABLE = Condition("Available", True, "AwesomeController", "")


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        pytest.param("Available", True, id="condition_exists"),
        pytest.param("ReplicaFailure", False, id="condition_does_not_exist"),
    ],
)
def test_get_condition(type_: str, expected: bool) -> None:
    """TestGetCondition."""
    status = (PROGRESSING_FALSE, AVAILABLE)

    assert (find_condition(status, type_) is not None) is expected


@pytest.mark.parametrize(
    ("before", "new", "after"),
    [
        pytest.param((), AVAILABLE, (AVAILABLE,), id="set_for_the_first_time"),
        pytest.param(
            (PROGRESSING_FALSE,), AVAILABLE, (PROGRESSING_FALSE, AVAILABLE), id="simple_set"
        ),
        pytest.param((PROGRESSING_FALSE,), PROGRESSING_TRUE, (PROGRESSING_TRUE,), id="overwrite"),
    ],
)
def test_set_condition(
    before: tuple[Condition, ...], new: Condition, after: tuple[Condition, ...]
) -> None:
    """TestSetCondition."""
    assert set_deployment_condition(before, new) == after


@pytest.mark.parametrize(
    ("before", "type_", "after"),
    [
        pytest.param((), PROGRESSING, (), id="remove_from_empty_status"),
        pytest.param((PROGRESSING_FALSE,), PROGRESSING, (), id="simple_remove"),
        pytest.param(
            (PROGRESSING_FALSE, AVAILABLE),
            "ReplicaFailure",
            (PROGRESSING_FALSE, AVAILABLE),
            id="doesn't_remove_anything",
        ),
    ],
)
def test_remove_condition(
    before: tuple[Condition, ...], type_: str, after: tuple[Condition, ...]
) -> None:
    """TestRemoveCondition."""
    assert remove_condition(before, type_) == after
