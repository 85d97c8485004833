"""Upstream's Deployment sync tables (proportional scaling, history cleanup), replayed
against ``decisions.rollout``.

Source: kubernetes/kubernetes pkg/controller/deployment/sync_test.go, read at commit
003e86297d18a8538c9da3619871393f9703bf70 (apps/v1, ``ktesting`` era). Tables: TestScale,
TestDeploymentController_cleanupDeployment, TestDeploymentController_cleanupDeploymentOrder.
Inputs and expected outputs are transcribed; the code is ours. (No TestGetReplicaSetProportion
table exists in the versions read; the proportion arithmetic is checked through TestScale
here and TestGetReplicaSetFraction in test_deployment_util.py.)

Upstream's fixtures, restated: ``newDeployment(name, replicas, historyLimit, maxSurge,
maxUnavailable, ...)`` defaults maxSurge and maxUnavailable to 0 (so ResolveFenceposts
makes unavailable 1); ``rs(name, replicas, ..., created)`` has an empty status. TestScale
sets each ReplicaSet's desired-replicas annotation to the *old* Deployment's replicas and
max-replicas to that plus the old Deployment's maxSurge, then calls ``scale`` with the new
Deployment. A ReplicaSet named in ``wasntUpdated`` keeps its original size because the
fake client drops that update; every such case expects the size the sandbox computes, so
the replay compares all sizes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from slagate.sandbox.decisions.deployments import DeploymentView, ReplicaSetView
from slagate.sandbox.decisions.rollout import history_to_delete, scale_proportionally

NEWER, NEW, OLD, OLDER = 4.0, 3.0, 2.0, 1.0  # creation times (newTimestamp > old > older)


def d(replicas: int, surge: int = 0, unavailable: int = 0, template: str = "t") -> DeploymentView:
    """``newDeployment``: maxSurge and maxUnavailable default to 0."""
    return DeploymentView("foo", replicas, template, max_surge=surge, max_unavailable=unavailable)


def rs(name: str, size: int, created: float, template: str = "t-old") -> ReplicaSetView:
    return ReplicaSetView(name, template, created, size)


# name, new Deployment, old Deployment, new ReplicaSet (or None), old ReplicaSets,
# expected sizes by name; optional desired-replicas overrides; new RS available pods.
_SCALE = [
    (
        "normal scaling event: 10 -> 12",
        d(12),
        d(10),
        rs("foo-v1", 10, NEW, "t"),
        [],
        {"foo-v1": 12},
    ),
    ("normal scaling event: 10 -> 5", d(5), d(10), rs("foo-v1", 10, NEW, "t"), [], {"foo-v1": 5}),
    (
        "proportional scaling: 5 -> 10",
        d(10),
        d(5),
        rs("foo-v2", 2, NEW, "t"),
        [rs("foo-v1", 3, OLD)],
        {"foo-v2": 4, "foo-v1": 6},
    ),
    (
        "proportional scaling: 5 -> 3",
        d(3),
        d(5),
        rs("foo-v2", 2, NEW, "t"),
        [rs("foo-v1", 3, OLD)],
        {"foo-v2": 1, "foo-v1": 2},
    ),
    (
        "proportional scaling: 9 -> 4",
        d(4),
        d(9),
        rs("foo-v2", 8, NEW, "t"),
        [rs("foo-v1", 1, OLD)],
        {"foo-v2": 4, "foo-v1": 0},
    ),
    (
        "proportional scaling: 7 -> 10",
        d(10),
        d(7),
        rs("foo-v3", 2, NEW, "t"),
        [rs("foo-v2", 3, OLD), rs("foo-v1", 2, OLDER)],
        {"foo-v3": 3, "foo-v2": 4, "foo-v1": 3},
    ),
    (
        "proportional scaling: 13 -> 8",
        d(8),
        d(13),
        rs("foo-v3", 2, NEW, "t"),
        [rs("foo-v2", 8, OLD), rs("foo-v1", 3, OLDER)],
        {"foo-v3": 1, "foo-v2": 5, "foo-v1": 2},
    ),
    (
        "leftover distribution: 3 -> 4",
        d(4),
        d(3),
        rs("foo-v3", 1, NEW, "t"),
        [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
        {"foo-v3": 2, "foo-v2": 1, "foo-v1": 1},
    ),
    (
        "leftover distribution: 3 -> 2",
        d(2),
        d(3),
        rs("foo-v3", 1, NEW, "t"),
        [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
        {"foo-v3": 1, "foo-v2": 1, "foo-v1": 0},
    ),
    (
        "proportional scaling (no new rs): 4 -> 5",
        d(5),
        d(4),
        None,
        [rs("foo-v2", 2, OLD), rs("foo-v1", 2, OLDER)],
        {"foo-v2": 3, "foo-v1": 2},
    ),
    (
        "proportional scaling: 6 -> 0",
        d(0),
        d(6),
        rs("foo-v3", 3, NEW, "t"),
        [rs("foo-v2", 2, OLD), rs("foo-v1", 1, OLDER)],
        {"foo-v3": 0, "foo-v2": 0, "foo-v1": 0},
    ),
    (
        "proportional scaling: 0 -> 6",
        d(6),
        d(6),
        rs("foo-v3", 0, NEW, "t"),
        [rs("foo-v2", 0, OLD), rs("foo-v1", 0, OLDER)],
        {"foo-v3": 6, "foo-v2": 0, "foo-v1": 0},
    ),
    (
        "failed rs update",
        d(5),
        d(5),
        rs("foo-v3", 2, NEW, "t"),
        [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
        {"foo-v3": 2, "foo-v2": 2, "foo-v1": 1},
        {"foo-v2": 3},
    ),
    (
        "deployment with surge pods",
        d(20, surge=2),
        d(10, surge=2),
        rs("foo-v2", 6, NEW, "t"),
        [rs("foo-v1", 6, OLD)],
        {"foo-v2": 11, "foo-v1": 11},
    ),
    (
        "change both surge and size",
        d(50, surge=6),
        d(10, surge=3),
        rs("foo-v2", 5, NEW, "t"),
        [rs("foo-v1", 8, OLD)],
        {"foo-v2": 22, "foo-v1": 34},
    ),
    (
        "change both size and template",
        d(14, template="t2"),
        d(10),
        None,
        [rs("foo-v2", 7, NEW, "t"), rs("foo-v1", 3, OLD)],
        {"foo-v2": 10, "foo-v1": 4},
    ),
    (
        "saturated but broken new replica set does not affect old pods",
        d(2, 1, 1),
        d(2, 1, 1),
        rs("foo-v2", 2, NEW, "t"),
        [rs("foo-v1", 1, OLD)],
        {"foo-v2": 2, "foo-v1": 1},
    ),
]
SCALE = [
    pytest.param(*case[1:6], case[6] if len(case) > 6 else {}, id=str(case[0]).replace(" ", "_"))
    for case in _SCALE
]


def _annotate(replica_set: ReplicaSetView, desired: int, surge: int) -> ReplicaSetView:
    """``SetReplicasAnnotations(rs, desired, desired + MaxSurge(oldDeployment))``."""
    return replace(replica_set, desired_replicas=desired, max_replicas=desired + surge)


@pytest.mark.parametrize(("new_d", "old_d", "new_rs", "old_rss", "expected", "overrides"), SCALE)
def test_scale(
    new_d: DeploymentView,
    old_d: DeploymentView,
    new_rs: ReplicaSetView | None,
    old_rss: list[ReplicaSetView],
    expected: dict[str, int],
    overrides: dict[str, int],
) -> None:
    """TestScale: the size of every ReplicaSet after ``scale``."""
    given = ([new_rs] if new_rs is not None else []) + old_rss
    annotated = [_annotate(r, overrides.get(r.name, old_d.replicas), old_d.surge) for r in given]

    resized = scale_proportionally(new_d, annotated)

    assert {r.name: r.spec_replicas for r in resized} == expected


def status_rs(
    name: str, spec: int, status: int, revision: int = 0, created: float = 0.0
) -> ReplicaSetView:
    """``newRSWithStatus`` / ``newRSWithRevisionAndCreationTimestamp``: no revision
    annotation reads as revision 0."""
    return ReplicaSetView(name, "t-old", created, spec, replicas=status, revision=revision)


DELETED = replace(status_rs("foo-1", 0, 0), deleting=True)

# TestDeploymentController_cleanupDeployment: (old ReplicaSets, revisionHistoryLimit) ->
# how many are deleted. Cases are unnamed upstream; ids are their index.
CLEANUP = [
    pytest.param(
        [status_rs("foo-1", 0, 0), status_rs("foo-2", 0, 0), status_rs("foo-3", 0, 0)], 1, 2, id="0"
    ),
    pytest.param(
        [
            status_rs("foo-1", 0, 0),
            status_rs("foo-2", 0, 1),
            status_rs("foo-3", 1, 0),
            status_rs("foo-4", 1, 1),
        ],
        0,
        1,
        id="1-only-empty-ones",
    ),
    pytest.param([status_rs("foo-1", 0, 0), status_rs("foo-2", 0, 0)], 0, 2, id="2"),
    pytest.param([status_rs("foo-1", 1, 1), status_rs("foo-2", 1, 1)], 0, 0, id="3"),
    pytest.param([DELETED], 0, 0, id="4-already-deleted"),
    pytest.param(
        [status_rs("foo-1", 0, 0), status_rs("foo-2", 0, 0), status_rs("foo-3", 0, 0)],
        2**31 - 1,
        0,
        id="5-unlimited",
    ),
]


@pytest.mark.parametrize(("old", "limit", "deletions"), CLEANUP)
def test_cleanup_deployment(old: list[ReplicaSetView], limit: int, deletions: int) -> None:
    assert len(history_to_delete(old, limit)) == deletions


def ordered(name: str, size: int, minute: int, revision: int) -> ReplicaSetView:
    """Created ``minute`` minutes from now; revision 0 when upstream has none."""
    return status_rs(name, size, size, revision, created=60.0 * minute)


# TestDeploymentController_cleanupDeploymentOrder: creation order is always
# foo-1 < foo-2 < foo-3 < foo-4; (old ReplicaSets, limit) -> the names deleted.
CLEANUP_ORDER = [
    pytest.param(
        [ordered("foo-1", 0, -1, 1), ordered("foo-2", 0, 0, 2)],
        1,
        {"foo-1"},
        id="revision_order_rs1_<_rs2",
    ),
    pytest.param(
        [ordered("foo-1", 0, -1, 2), ordered("foo-2", 0, 0, 1)],
        1,
        {"foo-2"},
        id="revision_order_rs2_<_rs1",
    ),
    pytest.param(
        [ordered("foo-1", 0, -1, 1), ordered("foo-2", 0, 0, 0)],
        1,
        {"foo-2"},
        id="rs2_has_no_revision",
    ),
    pytest.param(
        [ordered("foo-1", 0, -1, 0), ordered("foo-2", 0, 0, 2)],
        1,
        {"foo-1"},
        id="rs1_has_no_revision",
    ),
    pytest.param(
        [ordered("foo-1", 1, -1, 1), ordered("foo-2", 0, 0, 2), ordered("foo-3", 0, 1, 3)],
        1,
        {"foo-2"},
        id="rs1_has_replicas",
    ),
    pytest.param(
        [ordered("foo-1", 1, -1, 1), ordered("foo-2", 1, 0, 2), ordered("foo-3", 0, 1, 3)],
        1,
        set(),
        id="rs1_and_rs2_have_replicas",
    ),
    pytest.param(
        [
            ordered("foo-1", 0, -1, 3),
            ordered("foo-2", 0, 0, 1),
            ordered("foo-3", 0, 1, 4),
            ordered("foo-4", 0, 2, 2),
        ],
        2,
        {"foo-2", "foo-4"},
        id="revision_order_rs2_<_rs4_<_rs1_<_rs3",
    ),
]


@pytest.mark.parametrize(("old", "limit", "deleted"), CLEANUP_ORDER)
def test_cleanup_deployment_order(old: list[ReplicaSetView], limit: int, deleted: set[str]) -> None:
    assert set(history_to_delete(old, limit)) == deleted
