"""kube-state-metrics series from the sandbox's objects (pure: objects in, samples out)."""

from __future__ import annotations

from typing import Any

from slagate.sandbox.monitoring.statemetrics import ClusterState, state_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(state: ClusterState) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in state_families(state)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def named(found: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample, labels in found if sample == name]


def condition(kind: str, status: str, reason: str) -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason}


def named_object(name: str, spec: dict[str, Any], **status: Any) -> dict[str, Any]:
    """An object named ``name`` in ``default`` with ``spec`` and ``status`` as given."""
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec, "status": status}


HPA = named_object(
    "order",
    {"minReplicas": 1, "maxReplicas": 10},
    currentReplicas=2,
    desiredReplicas=3,
    conditions=[
        condition("AbleToScale", "True", "SucceededRescale"),
        condition("ScalingLimited", "False", "DesiredWithinRange"),
    ],
)
DEPLOYMENT = named_object(
    "order",
    {"replicas": 3},
    observedGeneration=4,
    replicas=4,
    readyReplicas=3,
    availableReplicas=2,
    unavailableReplicas=1,
    updatedReplicas=1,
    conditions=[
        condition("Available", "True", "MinimumReplicasAvailable"),
        condition("Progressing", "True", "ReplicaSetUpdated"),
    ],
)
DEPLOYMENT["metadata"]["generation"] = 4


REPLICASET = {
    "metadata": {
        "name": "order-5f6",
        "namespace": "default",
        "ownerReferences": [{"kind": "Deployment", "name": "order", "controller": True}],
    },
    "spec": {"replicas": 2},
    "status": {"replicas": 2, "readyReplicas": 1},
}


def order_pod(name: str, **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "order-5f6", "controller": True}],
            **metadata,
        },
        "spec": {"nodeName": "sandbox"},
        "status": {
            "phase": "Running",
            "podIP": "127.180.7.3",
            "hostIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "order", "restartCount": 2}],
        },
    }


def test_hpa_series() -> None:
    found = samples(ClusterState(hpas=[HPA]))
    hpa = {"namespace": "default", "horizontalpodautoscaler": "order"}

    assert value(found, "kube_horizontalpodautoscaler_spec_min_replicas", **hpa) == 1
    assert value(found, "kube_horizontalpodautoscaler_spec_max_replicas", **hpa) == 10
    assert value(found, "kube_horizontalpodautoscaler_status_current_replicas", **hpa) == 2
    assert value(found, "kube_horizontalpodautoscaler_status_desired_replicas", **hpa) == 3
    conditions = {
        (labels["condition"], labels["status"]): found[
            ("kube_horizontalpodautoscaler_status_condition", tuple(sorted(labels.items())))
        ]
        for labels in named(found, "kube_horizontalpodautoscaler_status_condition")
    }
    assert conditions == {
        ("AbleToScale", "true"): 1, ("AbleToScale", "false"): 0, ("AbleToScale", "unknown"): 0,
        ("ScalingLimited", "true"): 0, ("ScalingLimited", "false"): 1,
        ("ScalingLimited", "unknown"): 0,
    }  # fmt: skip


def test_deployment_series() -> None:
    found = samples(ClusterState(deployments=[DEPLOYMENT]))
    order = {"namespace": "default", "deployment": "order"}

    assert {
        name: value(found, f"kube_deployment_{name}", **order)
        for name in (
            "spec_replicas", "metadata_generation", "status_replicas", "status_replicas_ready",
            "status_replicas_available", "status_replicas_unavailable",
            "status_replicas_updated", "status_observed_generation",
        )
    } == {
        "spec_replicas": 3, "metadata_generation": 4, "status_replicas": 4,
        "status_replicas_ready": 3, "status_replicas_available": 2,
        "status_replicas_unavailable": 1, "status_replicas_updated": 1,
        "status_observed_generation": 4,
    }  # fmt: skip
    progressing = {**order, "condition": "Progressing", "reason": "ReplicaSetUpdated"}
    assert value(found, "kube_deployment_status_condition", **progressing, status="true") == 1
    assert value(found, "kube_deployment_status_condition", **progressing, status="false") == 0


def test_a_deployment_without_status_reads_zero_and_one_replica() -> None:
    found = samples(ClusterState(deployments=[{"metadata": {"name": "web", "namespace": "a"}}]))
    web = {"namespace": "a", "deployment": "web"}

    assert value(found, "kube_deployment_spec_replicas", **web) == 1
    assert value(found, "kube_deployment_status_replicas_available", **web) == 0
    assert named(found, "kube_deployment_status_condition") == []


def test_replicaset_series() -> None:
    found = samples(ClusterState(replicasets=[REPLICASET]))
    rs = {"namespace": "default", "replicaset": "order-5f6"}

    assert value(found, "kube_replicaset_status_ready_replicas", **rs) == 1
    assert value(found, "kube_replicaset_spec_replicas", **rs) == 2
    owner = {"owner_kind": "Deployment", "owner_name": "order", "owner_is_controller": "true"}
    assert value(found, "kube_replicaset_owner", **rs, **owner) == 1


def test_pod_series() -> None:
    deleting = order_pod("order-5f6-b", deletionTimestamp="2024-05-01T12:00:00Z")
    found = samples(ClusterState(pods=[order_pod("order-5f6-a"), deleting]))
    a = {"namespace": "default", "pod": "order-5f6-a", "uid": "uid-order-5f6-a"}
    b = {"namespace": "default", "pod": "order-5f6-b", "uid": "uid-order-5f6-b"}

    assert value(found, "kube_pod_status_ready", **a, condition="true") == 1
    assert value(found, "kube_pod_status_ready", **a, condition="false") == 0
    assert value(found, "kube_pod_status_phase", **a, phase="Running") == 1
    assert value(found, "kube_pod_status_phase", **a, phase="Pending") == 0
    assert len(named(found, "kube_pod_status_phase")) == 10  # five phases per pod
    assert named(found, "kube_pod_deletion_timestamp") == [b]
    assert value(found, "kube_pod_deletion_timestamp", **b) == 1_714_564_800
    owner = {"owner_kind": "ReplicaSet", "owner_name": "order-5f6", "owner_is_controller": "true"}
    assert value(found, "kube_pod_owner", **a, **owner) == 1
    assert value(found, "kube_pod_container_status_restarts_total", **a, container="order") == 2
    (info,) = [labels for labels in named(found, "kube_pod_info") if labels["pod"] == a["pod"]]
    assert (info["pod_ip"], info["created_by_kind"], info["node"]) == (
        "127.180.7.3",
        "ReplicaSet",
        "sandbox",
    )


def test_a_pod_without_owner_or_status() -> None:
    bare = {"metadata": {"name": "debug", "namespace": "default", "uid": "u"}}
    found = samples(ClusterState(pods=[bare]))
    pod = {"namespace": "default", "pod": "debug", "uid": "u"}

    none = {"owner_kind": "<none>", "owner_name": "<none>", "owner_is_controller": "<none>"}
    assert value(found, "kube_pod_owner", **pod, **none) == 1
    assert named(found, "kube_pod_status_phase") == []
    assert named(found, "kube_pod_status_ready") == []


def test_endpointslice_series_one_per_address() -> None:
    endpoint_slice = {
        "metadata": {"name": "order-x7", "namespace": "default"},
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": ["127.180.7.3"],
                "conditions": {"ready": False, "serving": True, "terminating": True},
                "targetRef": {"kind": "Pod", "name": "order-5f6-a", "namespace": "default"},
                "nodeName": "sandbox",
            },
            {"addresses": ["127.180.7.4"], "conditions": {"ready": True}},
        ],
    }
    found = samples(ClusterState(endpoint_slices=[endpoint_slice]))

    endpoints = {
        labels["address"]: labels for labels in named(found, "kube_endpointslice_endpoints")
    }
    assert endpoints["127.180.7.3"] == {
        "namespace": "default", "endpointslice": "order-x7", "address": "127.180.7.3",
        "ready": "false", "serving": "true", "terminating": "true", "hostname": "",
        "targetref_kind": "Pod", "targetref_name": "order-5f6-a",
        "targetref_namespace": "default", "nodename": "sandbox", "endpoint_zone": "",
    }  # fmt: skip
    assert (endpoints["127.180.7.4"]["ready"], endpoints["127.180.7.4"]["serving"]) == ("true", "")
    info = {"namespace": "default", "endpointslice": "order-x7", "addresstype": "IPv4"}
    assert value(found, "kube_endpointslice_info", **info) == 1
