"""Deployment sync decisions: fenceposts, revisions, one-step plans, status and completion."""

from __future__ import annotations

import pytest

from slagate.errors import ConfigError
from slagate.sandbox.decisions.conditions import Condition, find_condition
from slagate.sandbox.decisions.deployment_status import (
    calculate_status,
    rollout_state,
)
from slagate.sandbox.decisions.deployments import (
    DeploymentStatus,
    DeploymentView,
    ReplicaSetView,
    StrategyType,
)
from slagate.sandbox.decisions.fenceposts import (
    Fenceposts,
    IntOrPercent,
    max_unavailable,
    resolve_fenceposts,
)
from slagate.sandbox.decisions.revisions import (
    REVISION_ANNOTATION,
    fnv1a_32,
    next_revision,
    parse_revision,
    pod_template_hash,
    replica_annotations,
    safe_encode,
)
from slagate.sandbox.decisions.rollout import (
    ReplicaSetWrite,
    history_to_delete,
    new_replica_set_size,
    sync_deployment,
)

NOW = 5000.0


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        pytest.param("25%", "25%", 4, Fenceposts(1, 1), id="4-replicas"),
        pytest.param("25%", "25%", 3, Fenceposts(1, 0), id="3-replicas"),
        pytest.param("25%", "25%", 1, Fenceposts(1, 0), id="1-replica"),
        pytest.param("25%", "25%", 10, Fenceposts(3, 2), id="10-replicas"),
        # both round to 0 (floor 0.3, ceil 0) -> unavailable 1
        pytest.param(0, "10%", 3, Fenceposts(0, 1), id="both-zero-gives-1"),
        pytest.param(2, 0, 5, Fenceposts(2, 0), id="absolute"),
        pytest.param("100%", "0%", 3, Fenceposts(3, 0), id="blue-green-like"),
        pytest.param("25%", "25%", 0, Fenceposts(0, 1), id="zero-replicas"),
    ],
)
def test_fenceposts(
    surge: IntOrPercent, unavailable: IntOrPercent, replicas: int, expected: Fenceposts
) -> None:
    assert resolve_fenceposts(surge, unavailable, replicas) == expected


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        pytest.param("25%", "25%", 0, 0, id="zero-replicas"),
        pytest.param(0, 5, 3, 3, id="capped-at-replicas"),
        pytest.param("25%", "25%", 4, 1, id="plain"),
    ],
)
def test_max_unavailable(
    surge: IntOrPercent, unavailable: IntOrPercent, replicas: int, expected: int
) -> None:
    assert max_unavailable(surge, unavailable, replicas) == expected


@pytest.mark.parametrize("value", ["25", "a%", "%", "1.5%"])
def test_bad_percent_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="maxSurge/maxUnavailable"):
        resolve_fenceposts(value, 0, 4)


TEMPLATE: dict[str, object] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "shop:1"}]},
}


def test_pod_template_hash_is_stable_and_short() -> None:
    first = pod_template_hash(TEMPLATE)
    reordered = {"spec": TEMPLATE["spec"], "metadata": TEMPLATE["metadata"]}

    assert first == pod_template_hash(reordered)
    assert 1 <= len(first) <= 10
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_pod_template_hash_changes_with_template_and_collisions() -> None:
    changed = {**TEMPLATE, "spec": {"containers": [{"name": "web", "image": "shop:2"}]}}

    assert pod_template_hash(changed) != pod_template_hash(TEMPLATE)
    assert pod_template_hash(TEMPLATE, 1) != pod_template_hash(TEMPLATE)


def test_pod_template_hash_ignores_its_own_label() -> None:
    labelled = {**TEMPLATE, "metadata": {"labels": {"app": "web", "pod-template-hash": "x"}}}

    assert pod_template_hash(labelled) == pod_template_hash(TEMPLATE)


def test_hash_primitives() -> None:
    # FNV-1a 32 reference values: "" -> offset basis, "a" -> 0xe40c292c
    assert (fnv1a_32(b""), fnv1a_32(b"a")) == (0x811C9DC5, 0xE40C292C)
    # digits '0'..'9' are codes 48..57: 48 % 27 = 21 -> '4', 57 % 27 = 3 -> 'f'
    assert safe_encode("09") == "4f"


def test_revision_helpers() -> None:
    assert next_revision([]) == 1
    assert next_revision([1, 4, 2]) == 5
    assert parse_revision({REVISION_ANNOTATION: "7"}) == 7
    assert parse_revision({REVISION_ANNOTATION: "x"}) == 0
    assert replica_annotations(3, 4, 5) == {
        "deployment.kubernetes.io/revision": "3",
        "deployment.kubernetes.io/desired-replicas": "4",
        "deployment.kubernetes.io/max-replicas": "5",
    }


def deployment(replicas: int = 3, **fields: object) -> DeploymentView:
    return DeploymentView("web", replicas, "new", **fields)  # type: ignore[arg-type]


def rs(
    name: str,
    spec: int,
    available: int | None = None,
    created_s: float = 0.0,
    revision: int = 1,
    desired: int | None = 3,
) -> ReplicaSetView:
    """A ReplicaSet whose pods all exist; ``available`` of them (default all) available."""
    ready = spec if available is None else available
    return ReplicaSetView(
        name,
        "new" if name == "new" else name,
        created_s,
        spec,
        replicas=spec,
        ready_replicas=ready,
        available_replicas=ready,
        revision=revision,
        desired_replicas=desired,
        max_replicas=4,
    )


def sizes(writes: tuple[ReplicaSetWrite, ...]) -> dict[str, int]:
    return {w.name: w.replicas for w in writes}


def test_first_sync_creates_new_rs_with_next_revision() -> None:
    # 3 replicas, surge 1: room = 3 + 1 - 3 = 1
    d = deployment(generation=2, status=DeploymentStatus(1, 3, 3, 3, 3))

    sync = sync_deployment(d, [rs("a", 3, revision=4)], NOW)

    assert sync.writes == (ReplicaSetWrite("web-new", "new", 1, 5, 3, 4, create=True),)
    assert (sync.new_replica_set, sync.revision) == ("web-new", 5)
    progressing = find_condition(sync.status.conditions, "Progressing")
    assert progressing is not None and progressing.reason == "NewReplicaSetCreated"


def test_new_rs_grows_by_surge_budget() -> None:
    # 10 replicas, surge 3: old 8 + new 3 = 11 < 13 -> new grows by min(2, 10 - 3) = 2
    d = deployment(10)
    old, new = rs("a", 8, desired=10), rs("new", 3, 0, 1.0, 2, desired=10)

    sync = sync_deployment(d, [old, new], NOW)

    assert sizes(sync.writes) == {"new": 5}


def test_new_rs_above_replicas_is_scaled_down() -> None:
    sync = sync_deployment(deployment(3), [rs("new", 4, revision=1)], NOW)

    assert sizes(sync.writes) == {"new": 3}


def test_unhealthy_old_pods_go_first_oldest_rs_first() -> None:
    # 4 replicas (surge 1, unavailable 1). old "a" 2 pods (1 available), old "b" 1 pod
    # (0 available), new 1 available. total 4 = max 5? room 1 -> first the new RS grows.
    # With new at 2 (1 available): minAvailable 3, new unavailable 1, total 5:
    # maxScaledDown = 5 - 3 - 1 = 1 -> one unhealthy pod from the oldest RS "a"
    d = deployment(4)
    a = rs("a", 2, 1, 0.0, 1, 4)
    b = rs("b", 1, 0, 1.0, 2, 4)
    new = rs("new", 2, 1, 2.0, 3, 4)

    sync = sync_deployment(d, [b, new, a], NOW)

    assert sizes(sync.writes) == {"a": 1}


def test_available_old_pods_scaled_down_within_budget() -> None:
    # 4 replicas: old 3 available + new 2 available = 5; minAvailable 3; new unavailable 0:
    # maxScaledDown = 5 - 3 - 0 = 2; scale down available - minAvailable = 5 - 3 = 2
    d = deployment(4)

    sync = sync_deployment(
        d, [rs("a", 3, desired=4), rs("new", 2, created_s=1.0, revision=2, desired=4)], NOW
    )

    assert sizes(sync.writes) == {"a": 1}


def test_no_scale_down_while_new_pods_unavailable() -> None:
    # 3 replicas (surge 1, unavailable 0): old 3 + new 1 unavailable:
    # maxScaledDown = 4 - 3 - 1 = 0
    d = deployment(3)

    sync = sync_deployment(d, [rs("a", 3), rs("new", 1, 0, 1.0, 2)], NOW)

    assert sync.writes == ()


def test_rollback_bumps_existing_rs_revision() -> None:
    # the template went back to revision 1's: its RS "new" becomes revision 3
    d = deployment(3)
    old_new = rs("new", 0, created_s=0.0, revision=1)
    current = rs("b", 3, created_s=1.0, revision=2)

    sync = sync_deployment(d, [old_new, current], NOW)

    assert sync.writes[0] == ReplicaSetWrite("new", "new", 0, 3, 3, 4)
    assert sync.revision == 3


def test_scaling_event_with_one_active_rs_takes_full_count() -> None:
    # the HPA set 6; the only active RS says desired 3 -> scale it to 6, annotations 6 / 8
    d = deployment(6)

    sync = sync_deployment(d, [rs("new", 3)], NOW)

    assert sync.writes == (ReplicaSetWrite("new", "new", 6, 1, 6, 8),)


def test_complete_deployment_cleans_history() -> None:
    # limit 1: of the empty old RSs (revisions 1, 2) the oldest goes
    status = DeploymentStatus(1, 3, 3, 3, 3, 0)
    d = deployment(3, revision_history_limit=1, status=status)
    olds = [rs("a", 0, revision=1), rs("b", 0, created_s=1.0, revision=2)]

    sync = sync_deployment(d, [*olds, rs("new", 3, created_s=2.0, revision=3)], NOW)

    assert sync.deletes == ("a",)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param(None, (), id="unlimited"),
        pytest.param(3, (), id="within-limit"),
        pytest.param(2, ("a",), id="one-over"),
        pytest.param(0, ("a", "b"), id="zero-keeps-none"),
    ],
)
def test_history_to_delete(limit: int | None, expected: tuple[str, ...]) -> None:
    olds = [rs("b", 0, revision=2), rs("a", 0, revision=1), rs("c", 1, revision=3)]

    assert history_to_delete(olds, limit) == expected


def test_recreate_new_rs_size_is_full() -> None:
    d = deployment(5, strategy=StrategyType.RECREATE)

    assert new_replica_set_size(d, [rs("a", 5)], rs("new", 0)) == 5


def test_recreate_waits_while_old_pods_alive() -> None:
    d = deployment(3, strategy=StrategyType.RECREATE)
    empty_old = rs("a", 0)

    waiting = sync_deployment(d, [empty_old], NOW, old_pods_alive=2)
    started = sync_deployment(d, [empty_old], NOW, old_pods_alive=0)

    assert waiting.writes == ()
    assert started.writes == (ReplicaSetWrite("web-new", "new", 3, 2, 3, 3, create=True),)


def test_status_counts_and_availability() -> None:
    # spec sum 5, available 2 -> unavailable 3; 2 >= 3 - 0? no -> Available False
    d = deployment(3)
    rss = [rs("a", 2, 2), rs("new", 3, 0, 1.0, 2)]

    status = calculate_status(d, rss, rss[1], NOW)

    assert (
        status.replicas,
        status.updated_replicas,
        status.ready_replicas,
        status.available_replicas,
        status.unavailable_replicas,
        status.observed_generation,
    ) == (5, 3, 2, 2, 3, 1)
    available = find_condition(status.conditions, "Available")
    assert available == Condition(
        "Available",
        False,
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
        NOW,
        NOW,
    )


def test_status_unavailable_never_negative() -> None:
    status = calculate_status(deployment(2), [rs("new", 2, 3)], None, NOW)

    assert status.unavailable_replicas == 0


def progress(reason: str) -> tuple[Condition, ...]:
    return (Condition("Progressing", reason != "ProgressDeadlineExceeded", reason, "", 0.0, 0.0),)


@pytest.mark.parametrize(
    ("generation", "status", "done", "failed", "message"),
    [
        pytest.param(
            3,
            DeploymentStatus(2, 3, 3, 3, 3),
            False,
            False,
            "Waiting for deployment spec update to be observed...",
            id="generation-not-observed",
        ),
        pytest.param(
            2,
            DeploymentStatus(2, 3, 1, 3, 3, conditions=progress("ProgressDeadlineExceeded")),
            False,
            True,
            'deployment "web" exceeded its progress deadline',
            id="deadline-exceeded",
        ),
        pytest.param(
            2,
            DeploymentStatus(2, 4, 2, 4, 4),
            False,
            False,
            'Waiting for deployment "web" rollout to finish: 2 out of 3 new replicas have '
            "been updated...",
            id="not-all-updated",
        ),
        pytest.param(
            2,
            DeploymentStatus(2, 4, 3, 4, 4),
            False,
            False,
            'Waiting for deployment "web" rollout to finish: 1 old replicas are pending '
            "termination...",
            id="old-pods-left",
        ),
        pytest.param(
            2,
            DeploymentStatus(2, 3, 3, 3, 2),
            False,
            False,
            'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are '
            "available...",
            id="not-all-available",
        ),
        pytest.param(
            2,
            DeploymentStatus(2, 3, 3, 3, 3),
            True,
            False,
            'deployment "web" successfully rolled out',
            id="done",
        ),
        # more updated than spec (HPA scaled down mid-watch) still counts as done
        pytest.param(
            1,
            DeploymentStatus(2, 4, 4, 4, 4),
            True,
            False,
            'deployment "web" successfully rolled out',
            id="newer-observed-and-over-spec",
        ),
    ],
)
def test_rollout_state(
    generation: int, status: DeploymentStatus, done: bool, failed: bool, message: str
) -> None:
    state = rollout_state("web", generation, 3, status)

    assert (state.done, state.failed, state.message) == (done, failed, message)
