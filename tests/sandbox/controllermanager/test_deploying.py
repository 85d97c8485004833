"""The Deployment and ReplicaSet loops together: creation, rollout, scaling, history.

The test plays the kubelet (``Sandbox.step``: one pod transition at a time, then the
controllers settle) and reads what the controllers wrote to the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from slagate.sandbox.apiserver.watching import EventType, WatchEvent
from slagate.sandbox.controllermanager.reading import deployment_status
from slagate.sandbox.decisions.deployment_status import rollout_state
from slagate.sandbox.objects.bodies import RawObject, labels_of, mapping_at, metadata, name_of
from slagate.sandbox.objects.resources import DEPLOYMENTS, PODS, REPLICASETS, SERVICES, ResourceType
from slagate.sandbox.objects.selection import Selection
from tests.sandbox.controllermanager.fakes import (
    NS,
    Sandbox,
    deployment,
    is_ready,
    restart,
    running_sandbox,
    scale_to,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as running:
        yield running


def rollout(sandbox: Sandbox, name: str = "web") -> tuple[bool, str]:
    d = sandbox.get(DEPLOYMENTS, name)
    state = rollout_state(
        name,
        metadata(d)["generation"],
        d["spec"]["replicas"],
        deployment_status(mapping_at(d, "status")),
    )
    return state.done, state.message


def sizes(sandbox: Sandbox) -> dict[str, tuple[int, str]]:
    """ReplicaSet -> (spec.replicas, revision annotation)."""
    return {
        name_of(rs): (
            rs["spec"]["replicas"],
            metadata(rs)["annotations"]["deployment.kubernetes.io/revision"],
        )
        for rs in sandbox.replica_sets()
    }


def conditions(obj: RawObject) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"].get("conditions", [])}


def test_a_deployment_of_three_creates_its_replica_set_and_three_pods(sandbox: Sandbox) -> None:
    d = sandbox.create(DEPLOYMENTS, deployment(replicas=3))

    [rs] = sandbox.replica_sets()
    hash_ = labels_of(rs)["pod-template-hash"]
    assert name_of(rs) == f"web-{hash_}"
    assert labels_of(rs) == {"app": "web", "pod-template-hash": hash_}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": hash_}}
    assert metadata(rs)["annotations"] == {
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    [owner] = metadata(rs)["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Deployment",
        "web",
        metadata(d)["uid"],
        True,
    )
    pods = sandbox.pods()
    assert len(pods) == 3
    for pod in pods:
        assert name_of(pod).startswith(f"{name_of(rs)}-")
        assert len(name_of(pod)) == len(name_of(rs)) + 6
        assert labels_of(pod) == {"app": "web", "pod-template-hash": hash_}
        assert metadata(pod)["ownerReferences"][0]["uid"] == metadata(rs)["uid"]
    assert sandbox.messages("ScalingReplicaSet") == [
        f"Scaled up replica set {name_of(rs)} from 0 to 3"
    ]
    assert len(sandbox.messages("SuccessfulCreate")) == 3
    assert rollout(sandbox) == (
        False,
        'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...',
    )


def test_ready_pods_make_the_deployment_available_and_the_rollout_complete(
    sandbox: Sandbox,
) -> None:
    sandbox.create(DEPLOYMENTS, deployment(replicas=3))

    sandbox.run_kubelet()

    d = sandbox.get(DEPLOYMENTS, "web")
    assert {k: v for k, v in d["status"].items() if k != "conditions"} == {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
    }
    assert conditions(d) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    assert metadata(d)["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rollout(sandbox) == (True, 'deployment "web" successfully rolled out')
    [rs] = sandbox.replica_sets()
    assert rs["status"] == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }


def pod_counts(pods: Iterable[RawObject]) -> tuple[int, int]:
    """(pods not terminating, of them Ready)."""
    alive = [p for p in pods if not metadata(p).get("deletionTimestamp")]
    return len(alive), sum(is_ready(p) for p in alive)


def replay(sandbox: Sandbox, since: int) -> Iterator[tuple[int, int, int]]:
    """After every pod or ReplicaSet change since revision ``since``, replayed from the
    store's watch history: (pods not terminating, of them Ready, sum of RS spec.replicas).

    Between two writes the pod count may pass replicas + surge for a moment (the new
    ReplicaSet's pod created before the old one's is deleted: two controllers, as
    upstream); what the Deployment controller bounds per write is the spec sum."""
    events: list[tuple[int, ResourceType, WatchEvent]] = []
    for resource in (PODS, REPLICASETS):
        with sandbox.store.watch(Selection(resource, NS), since=1) as watcher:
            events.extend((e.revision, resource, e) for e in watcher.poll(timeout_s=0.0))
    state: dict[tuple[ResourceType, str], RawObject] = {}
    for revision, resource, event in sorted(events, key=lambda item: item[0]):
        key = (resource, name_of(event.object))
        if event.type is EventType.DELETED:
            state.pop(key, None)
        else:
            state[key] = event.object
        if revision > since:
            pods = [o for (r, _), o in state.items() if r is PODS]
            specs = sum(o["spec"]["replicas"] for (r, _), o in state.items() if r is REPLICASETS)
            yield (*pod_counts(pods), specs)


@pytest.mark.parametrize(
    ("replicas", "strategy", "peak", "trough"),
    [
        # 3 pods at 25%/25%: surge ceil(0.75) = 1, unavailable floor(0.75) = 0
        pytest.param(3, {}, 4, 3, id="3-default"),
        # maxSurge 0 / maxUnavailable 1: never more than 4, one pod down at a time
        pytest.param(4, {"maxSurge": 0, "maxUnavailable": 1}, 4, 3, id="4-surge0-unavail1"),
        # 50% / 25% of 4: surge 2, unavailable 1
        pytest.param(4, {"maxSurge": "50%", "maxUnavailable": "25%"}, 6, 3, id="4-50pct-25pct"),
    ],
)
def test_a_rollout_restart_rolls_within_max_surge_and_max_unavailable(
    sandbox: Sandbox, replicas: int, strategy: dict[str, Any], peak: int, trough: int
) -> None:
    spec = {"type": "RollingUpdate", "rollingUpdate": strategy} if strategy else None
    sandbox.create(DEPLOYMENTS, deployment(replicas=replicas, strategy=spec))
    sandbox.run_kubelet()
    [old] = sandbox.replica_sets()
    since = sandbox.store.revision

    sandbox.modify(DEPLOYMENTS, "web", restart("2024-05-01T12:00:00Z"))
    assert rollout(sandbox)[0] is False
    steps = [pod_counts(sandbox.pods())]
    while sandbox.step():
        steps.append(pod_counts(sandbox.pods()))

    # after every kubelet step: within replicas + surge pods, replicas - unavailable ready
    assert max(alive for alive, _ in steps) == peak
    assert min(ready for _, ready in steps) == trough
    # at every single write in between: the controllers' own bounds
    history = list(replay(sandbox, since))
    assert min(ready for _, ready, _ in history) == trough
    assert max(specs for _, _, specs in history) == peak
    new = next(rs for rs in sandbox.replica_sets() if name_of(rs) != name_of(old))
    assert sizes(sandbox) == {name_of(old): (0, "1"), name_of(new): (replicas, "2")}
    assert {labels_of(p)["pod-template-hash"] for p in sandbox.pods()} == {
        labels_of(new)["pod-template-hash"]
    }
    assert rollout(sandbox) == (True, 'deployment "web" successfully rolled out')
    d = sandbox.get(DEPLOYMENTS, "web")
    assert metadata(d)["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert f"Scaled down replica set {name_of(old)} from 1 to 0" in sandbox.messages(
        "ScalingReplicaSet"
    )


def test_a_replica_change_scales_the_replica_set(sandbox: Sandbox) -> None:
    sandbox.create(DEPLOYMENTS, deployment(replicas=3))
    sandbox.run_kubelet()
    [rs] = sandbox.replica_sets()

    sandbox.modify(DEPLOYMENTS, "web", scale_to(5))

    assert sizes(sandbox) == {name_of(rs): (5, "1")}
    assert len(sandbox.pods()) == 5
    annotations = metadata(sandbox.get(REPLICASETS, name_of(rs)))["annotations"]
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "5"
    assert f"Scaled up replica set {name_of(rs)} from 3 to 5" in sandbox.messages(
        "ScalingReplicaSet"
    )


def test_scaling_down_deletes_unready_pods_first(sandbox: Sandbox) -> None:
    sandbox.create(DEPLOYMENTS, deployment(replicas=3))
    sandbox.run_kubelet()
    sandbox.modify(DEPLOYMENTS, "web", scale_to(4))
    [fresh] = [p for p in sandbox.pods() if not is_ready(p)]

    sandbox.modify(DEPLOYMENTS, "web", scale_to(3))

    [terminating] = [p for p in sandbox.pods() if metadata(p).get("deletionTimestamp")]
    assert name_of(terminating) == name_of(fresh)
    assert sandbox.messages("SuccessfulDelete") == [f"Deleted pod: {name_of(fresh)}"]
    # terminating pods are not counted (upstream): status.replicas is 3 with 4 pods left
    [rs] = sandbox.replica_sets()
    assert rs["status"]["replicas"] == 3
    assert len(sandbox.pods()) == 4


def test_scaling_during_a_rollout_is_proportional(sandbox: Sandbox) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    sandbox.create(DEPLOYMENTS, deployment(replicas=4, strategy=strategy))
    sandbox.run_kubelet()
    [old] = sandbox.replica_sets()
    sandbox.modify(DEPLOYMENTS, "web", restart("2024-05-01T12:00:00Z"))
    new = next(rs for rs in sandbox.replica_sets() if name_of(rs) != name_of(old))
    assert sizes(sandbox) == {name_of(old): (4, "1"), name_of(new): (1, "2")}

    sandbox.modify(DEPLOYMENTS, "web", scale_to(8))

    # 8 + surge 1 = 9 shared by size from max-replicas 5: old round(4*9/5) = 7, new 2
    assert sizes(sandbox) == {name_of(old): (7, "1"), name_of(new): (2, "2")}


def test_old_replica_sets_beyond_the_revision_history_limit_are_deleted(
    sandbox: Sandbox,
) -> None:
    sandbox.create(DEPLOYMENTS, deployment(replicas=1, revisionHistoryLimit=1))
    sandbox.run_kubelet()
    [first] = sandbox.replica_sets()

    for at in ("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z"):
        sandbox.modify(DEPLOYMENTS, "web", restart(at))
        sandbox.run_kubelet()

    assert name_of(first) not in sizes(sandbox)
    assert sorted(sizes(sandbox).values()) == [(0, "2"), (1, "3")]


def test_recreate_starts_new_pods_only_after_the_old_ones_are_gone(sandbox: Sandbox) -> None:
    sandbox.create(DEPLOYMENTS, deployment(replicas=2, strategy={"type": "Recreate"}))
    sandbox.run_kubelet()
    [old] = sandbox.replica_sets()

    sandbox.modify(DEPLOYMENTS, "web", restart("2024-05-01T12:00:00Z"))

    assert sizes(sandbox) == {name_of(old): (0, "1")}
    assert all(metadata(p).get("deletionTimestamp") for p in sandbox.pods())
    sandbox.step()
    assert len(sandbox.replica_sets()) == 1
    sandbox.step()
    new = next(rs for rs in sandbox.replica_sets() if name_of(rs) != name_of(old))
    assert sizes(sandbox)[name_of(new)] == (2, "2")


def test_no_progress_within_the_deadline_fails_the_rollout(sandbox: Sandbox) -> None:
    sandbox.create(DEPLOYMENTS, deployment(replicas=2, progressDeadlineSeconds=30))

    sandbox.clock.advance(31.0)
    sandbox.manager.resync()
    sandbox.settle()

    assert conditions(sandbox.get(DEPLOYMENTS, "web"))["Progressing"] == (
        "False",
        "ProgressDeadlineExceeded",
    )
    assert rollout(sandbox) == (False, 'deployment "web" exceeded its progress deadline')


def test_a_resync_of_a_settled_cluster_writes_nothing(sandbox: Sandbox) -> None:
    sandbox.create(DEPLOYMENTS, deployment(replicas=2))
    sandbox.create(
        SERVICES,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
    )
    sandbox.run_kubelet()
    revision = sandbox.store.revision

    sandbox.clock.advance(5.0)
    sandbox.manager.resync()
    sandbox.settle()

    assert sandbox.store.revision == revision
