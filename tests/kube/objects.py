"""Objects the kube tests write straight into the sandbox store, acting as the cluster's
controllers and kubelet would (those are not used here)."""

from __future__ import annotations

from typing import Any

from slagate.sandbox.apiserver.deleting import DeleteOptions
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.resources import (
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    EVENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    PODS,
    REPLICASETS,
    SERVICES,
)

NS = "shop"
Body = dict[str, Any]


def deployment(name: str = "order", replicas: int = 2) -> Body:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "shop:1"},
                        {"name": "sidecar", "image": "proxy:1"},
                    ]
                },
            },
        },
    }


def replica_set(name: str, template_hash: str, revision: str, replicas: int, uid: str) -> Body:
    labels = {"app": "order", "pod-template-hash": template_hash}
    return {
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [_owner("Deployment", "order", uid)],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "shop:1"}]},
            },
        },
    }


def pod(name: str, replica_set: str = "order-aaa", template_hash: str = "aaa") -> Body:
    return {
        "metadata": {
            "name": name,
            "labels": {"app": "order", "pod-template-hash": template_hash},
            "ownerReferences": [_owner("ReplicaSet", replica_set, f"uid-{replica_set}")],
        },
        "spec": {"containers": [{"name": "app", "image": "shop:1"}]},
    }


def _owner(kind: str, name: str, uid: str) -> Body:
    return {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": True}


def hpa(name: str = "order", max_replicas: int = 10) -> Body:
    return {
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "order"},
            "minReplicas": 1,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 15},
                    },
                }
            ],
        },
    }


def endpoint_slice(name: str, service: str, endpoints: list[tuple[str, bool, bool]]) -> Body:
    """``endpoints``: (pod, ready, terminating); serving follows ready unless terminating."""
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": [f"10.0.0.{i + 1}"],
                "conditions": {"ready": ready, "serving": ready or term, "terminating": term},
                "targetRef": {"kind": "Pod", "name": pod_name, "namespace": NS},
            }
            for i, (pod_name, ready, term) in enumerate(endpoints)
        ],
    }


def event(name: str, reason: str, involved: str, message: str, count: int = 1) -> Body:
    kind, obj_name = involved.split("/")
    return {
        "metadata": {"name": name},
        "involvedObject": {"kind": kind, "name": obj_name, "namespace": NS},
        "reason": reason,
        "message": message,
        "count": count,
        "type": "Normal",
    }


def service(name: str, annotations: dict[str, str] | None = None) -> Body:
    return {
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 8080, "targetPort": 8080}]},
    }


class Cluster:
    """The test acting as controllers and kubelet: writes into the store directly."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def create(self, resource: Any, body: Body) -> Body:
        return self.store.create(resource, body, NS)

    def status(self, resource: Any, name: str, status: Body) -> Body:
        def change(obj: Body) -> Body:
            obj["status"] = {**obj.get("status", {}), **status}
            return obj

        return self.store.modify(resource, NS, name, change, subresource="status")

    def pod_status(self, name: str, phase: str, ready: bool, ip: str | None = None) -> Body:
        status: Body = {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        if ip:
            status["podIP"] = ip
        return self.status(PODS, name, status)

    def start_deleting(self, name: str) -> None:
        """The first delete of a pod (a graceful-deletion hook keeps it, terminating)."""
        self.store.delete(PODS, NS, name)

    def remove(self, resource: Any, name: str) -> None:
        self.store.delete(resource, NS, name, DeleteOptions(grace_period_seconds=0))

    def modify(self, resource: Any, name: str, change: Any) -> Body:
        return self.store.modify(resource, NS, name, change)


__all__ = [
    "DEPLOYMENTS",
    "ENDPOINT_SLICES",
    "EVENTS",
    "HORIZONTAL_POD_AUTOSCALERS",
    "PODS",
    "REPLICASETS",
    "SERVICES",
]
