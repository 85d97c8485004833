"""Upstream's rolling-update tables, replayed through one ``decisions.rollout`` sync.

Source: kubernetes/kubernetes pkg/controller/deployment/rolling_test.go, read at commit
00bdb3fade2ef1ada898bd8fae2c6a1958da3a5d (the tables are unchanged in later versions
apart from API group names). Tables: TestDeploymentController_reconcileNewReplicaSet,
TestDeploymentController_reconcileOldReplicaSets. Inputs and expected outputs are
transcribed; the code is ours.

Upstream calls each step directly; here one ``sync_deployment`` runs them in upstream's
order (new ReplicaSet first, old ones only if the new one did not move), so the replay
looks at the writes for the ReplicaSet the table is about. The new ReplicaSet carries a
higher revision so the sync has no revision to fix up, and no desired-replicas
annotation, so it is a rollout step and not a scaling event.

Not replayed, with the reason: TestDeploymentController_cleanupUnhealthyReplicas and
TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate call the two halves of
reconcileOldReplicaSets separately with a budget chosen by the test; the sandbox runs
them only together (cases 2 and 3 of reconcileOldReplicaSets exercise each half).
"""

from __future__ import annotations

import pytest

from slagate.sandbox.decisions.deployments import DeploymentView, ReplicaSetView
from slagate.sandbox.decisions.rollout import sync_deployment

NOW = 1_000.0


def sync(
    replicas: int,
    surge: int,
    unavailable: int,
    old: tuple[int, int],
    new: tuple[int, int],
) -> dict[str, int]:
    """One sync; ``old``/``new`` are (spec.replicas, availableReplicas). Returns the
    ReplicaSets written, by name, with their new size."""
    d = DeploymentView("foo", replicas, "new", max_surge=surge, max_unavailable=unavailable)
    old_rs = ReplicaSetView("foo-old", "old", 1.0, old[0], old[0], old[1], old[1], revision=1)
    new_rs = ReplicaSetView("foo-new", "new", 2.0, new[0], new[0], new[1], new[1], revision=2)
    result = sync_deployment(d, [old_rs, new_rs], NOW)
    return {w.name: w.replicas for w in result.writes}


# TestDeploymentController_reconcileNewReplicaSet: maxUnavailable 0;
# (replicas, maxSurge, old size, new size) -> new size written, or None for no scaling.
RECONCILE_NEW = [
    pytest.param(10, 0, 10, 0, None, id="0-should-not-scale-up"),
    pytest.param(10, 2, 10, 0, 2, id="1"),
    pytest.param(10, 2, 5, 0, 7, id="2"),
    pytest.param(10, 2, 10, 2, None, id="3"),
    pytest.param(10, 2, 2, 11, 10, id="4-should-scale-down"),
]


@pytest.mark.parametrize(("replicas", "surge", "old", "new", "expected"), RECONCILE_NEW)
def test_reconcile_new_replica_set(
    replicas: int, surge: int, old: int, new: int, expected: int | None
) -> None:
    writes = sync(replicas, surge, 0, (old, old), (new, new))

    assert writes.get("foo-new") == expected


# TestDeploymentController_reconcileOldReplicaSets: 10 replicas, maxSurge 0;
# (maxUnavailable, old size, new size, old available, new available) -> scaled, and the
# old size upstream's table gives (it asserts only that a scale happened).
RECONCILE_OLD = [
    pytest.param(0, 10, 0, 10, 0, 9, id="0"),
    pytest.param(2, 10, 0, 10, 0, 8, id="1"),
    pytest.param(2, 10, 0, 8, 0, 8, id="2-unhealthy-old-replicas-cleaned-up"),
    pytest.param(2, 10, 0, 9, 0, 8, id="3-one-unhealthy-cleaned-one-ready-scaled-down"),
    pytest.param(2, 8, 2, 8, 0, None, id="4-unavailable-new-pods-block-further-scale-down"),
]


@pytest.mark.parametrize(
    ("unavailable", "old", "new", "old_ready", "new_ready", "expected"), RECONCILE_OLD
)
def test_reconcile_old_replica_sets(
    unavailable: int, old: int, new: int, old_ready: int, new_ready: int, expected: int | None
) -> None:
    writes = sync(10, 0, unavailable, (old, old_ready), (new, new_ready))

    assert "foo-new" not in writes
    assert writes.get("foo-old") == expected
