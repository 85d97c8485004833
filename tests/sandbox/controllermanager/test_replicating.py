"""The ReplicaSet loop on its own: pods from the template, replacement, status counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from slagate.sandbox.objects.bodies import RawObject, labels_of, metadata, name_of
from slagate.sandbox.objects.resources import PODS, REPLICASETS
from tests.sandbox.controllermanager.fakes import (
    NS,
    Sandbox,
    container,
    is_ready,
    running_sandbox,
    scale_to,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as running:
        yield running


def replica_set(replicas: int = 2, min_ready_s: int = 0) -> RawObject:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-1"},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready_s,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": {"team": "shop"}},
                "spec": {"containers": [container()]},
            },
        },
    }


def status(sandbox: Sandbox) -> dict[str, int]:
    return dict(sandbox.get(REPLICASETS, "web-1")["status"])


def test_pods_are_made_from_the_template(sandbox: Sandbox) -> None:
    rs = sandbox.create(REPLICASETS, replica_set(replicas=2))

    pods = sandbox.pods()

    assert len(pods) == 2
    for pod in pods:
        assert metadata(pod)["generateName"] == "web-1-"
        assert labels_of(pod) == {"app": "web"}
        assert metadata(pod)["annotations"] == {"team": "shop"}
        assert pod["spec"]["containers"][0]["name"] == "app"
        [owner] = metadata(pod)["ownerReferences"]
        assert (owner["kind"], owner["uid"], owner["blockOwnerDeletion"]) == (
            "ReplicaSet",
            metadata(rs)["uid"],
            True,
        )
    assert sorted(sandbox.messages("SuccessfulCreate")) == sorted(
        f"Created pod: {name_of(p)}" for p in pods
    )
    assert status(sandbox) == {"replicas": 2, "fullyLabeledReplicas": 2, "observedGeneration": 1}


def test_a_pod_that_is_gone_is_replaced(sandbox: Sandbox) -> None:
    sandbox.create(REPLICASETS, replica_set(replicas=2))
    sandbox.run_kubelet()
    victim = name_of(sandbox.pods()[0])

    sandbox.store.delete(PODS, NS, victim)  # e.g. kubectl delete pod: graceful
    sandbox.settle()

    # the terminating pod no longer counts: a replacement starts at once
    names = [name_of(p) for p in sandbox.pods()]
    assert len(names) == 3 and victim in names
    assert status(sandbox)["replicas"] == 2
    assert status(sandbox)["readyReplicas"] == 1


def test_available_waits_for_min_ready_seconds(sandbox: Sandbox) -> None:
    sandbox.create(REPLICASETS, replica_set(replicas=2, min_ready_s=10))
    sandbox.run_kubelet()
    assert all(is_ready(p) for p in sandbox.pods())
    assert status(sandbox).get("availableReplicas") is None

    sandbox.clock.advance(11.0)
    sandbox.manager.resync()
    sandbox.settle()

    assert status(sandbox)["availableReplicas"] == 2


def test_scaling_to_zero_deletes_every_pod(sandbox: Sandbox) -> None:
    sandbox.create(REPLICASETS, replica_set(replicas=2))
    sandbox.run_kubelet()

    sandbox.modify(REPLICASETS, "web-1", scale_to(0))

    assert all(metadata(p).get("deletionTimestamp") for p in sandbox.pods())
    assert len(sandbox.messages("SuccessfulDelete")) == 2
    assert status(sandbox) == {"replicas": 0, "observedGeneration": 2}
    sandbox.run_kubelet()
    assert sandbox.pods() == []
