"""Server-side printing: ``meta.k8s.io/v1 Table`` answers for ``kubectl get``.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...``; with a
Table it prints the same columns a real cluster shows (``kubectl get hpa`` with
REFERENCE, TARGETS, MINPODS, MAXPODS, REPLICAS), which is what the lab's screenshots
were of. Other clients never ask, and get plain objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slagate.sandbox.objects.bodies import RawObject, mapping_at, metadata, name_of
from slagate.sandbox.objects.resources import ResourceType

Cell = Callable[[RawObject, datetime], Any]


@dataclass(frozen=True)
class Column:
    name: str
    cell: Cell
    type: str = "string"
    priority: int = 0

    def definition(self) -> dict[str, Any]:
        fmt = "name" if self.name == "Name" else ""
        return {
            "name": self.name,
            "type": self.type,
            "format": fmt,
            "description": "",
            "priority": self.priority,
        }


def wants_table(accept: str) -> bool:
    return any("as=Table" in media_range for media_range in accept.split(","))


def to_table(
    resource: ResourceType,
    items: list[RawObject],
    list_meta: dict[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    columns = [_NAME, *_COLUMNS.get(resource.kind, ()), _AGE]
    rows = [
        {"cells": [c.cell(item, moment) for c in columns], "object": _partial(item)}
        for item in items
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [c.definition() for c in columns],
        "rows": rows,
    }


def _partial(obj: RawObject) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata(obj),
    }


def age(obj: RawObject, now: datetime) -> str:
    """Upstream's short age: ``42s``, ``5m``, ``3h``, ``2d``."""
    raw = metadata(obj).get("creationTimestamp")
    try:
        created = datetime.strptime(str(raw), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    seconds = max(0, int((now - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _field(*path: str, default: Any = 0) -> Cell:
    def cell(obj: RawObject, _now: datetime) -> Any:
        value = mapping_at(obj, *path[:-1]).get(path[-1])
        return default if value is None else value

    return cell


def _job_completions(obj: RawObject, _now: datetime) -> str:
    done = mapping_at(obj, "status").get("succeeded", 0)
    return f"{done}/{mapping_at(obj, 'spec').get('completions', 1)}"


def _access_modes(obj: RawObject, _now: datetime) -> str:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}
    modes = mapping_at(obj, "spec").get("accessModes") or []
    return ",".join(short.get(str(m), str(m)) for m in modes)


def _deployment_ready(obj: RawObject, _now: datetime) -> str:
    ready = mapping_at(obj, "status").get("readyReplicas", 0)
    return f"{ready}/{mapping_at(obj, 'spec').get('replicas', 0)}"


def _pod_ready(obj: RawObject, _now: datetime) -> str:
    statuses = mapping_at(obj, "status").get("containerStatuses") or []
    ready = sum(1 for s in statuses if isinstance(s, dict) and s.get("ready"))
    return f"{ready}/{len(mapping_at(obj, 'spec').get('containers') or [])}"


def _pod_status(obj: RawObject, _now: datetime) -> str:
    if metadata(obj).get("deletionTimestamp"):
        return "Terminating"
    return str(mapping_at(obj, "status").get("phase", "Unknown"))


def _pod_restarts(obj: RawObject, _now: datetime) -> int:
    statuses = mapping_at(obj, "status").get("containerStatuses") or []
    return sum(int(s.get("restartCount", 0)) for s in statuses if isinstance(s, dict))


def _node_status(obj: RawObject, _now: datetime) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return "Ready" if ready else "NotReady"


def _hpa_reference(obj: RawObject, _now: datetime) -> str:
    ref = mapping_at(obj, "spec", "scaleTargetRef")
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _hpa_targets(obj: RawObject, _now: datetime) -> str:
    current = {
        m.get("resource", {}).get("name"): m.get("resource", {}).get("current", {})
        for m in mapping_at(obj, "status").get("currentMetrics") or []
        if isinstance(m, dict) and m.get("type") == "Resource"
    }
    parts = []
    for metric in mapping_at(obj, "spec").get("metrics") or []:
        resource = metric.get("resource", {}) if isinstance(metric, dict) else {}
        target = resource.get("target", {}).get("averageUtilization")
        seen = current.get(resource.get("name"), {}).get("averageUtilization")
        shown = "<unknown>" if seen is None else f"{seen}%"
        parts.append(f"{resource.get('name', '?')}: {shown}/{target}%")
    return ", ".join(parts) or "<none>"


def _service_ports(obj: RawObject, _now: datetime) -> str:
    ports = mapping_at(obj, "spec").get("ports") or []
    shown = [f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports if isinstance(p, dict)]
    return ",".join(shown) or "<none>"


def _slice_endpoints(obj: RawObject, _now: datetime) -> str:
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return ",".join(addresses) or "<unset>"


def _count(*path: str) -> Callable[[RawObject, datetime], int]:
    def cell(obj: RawObject, _now: datetime) -> int:
        value: Any = mapping_at(obj, *path[:-1]).get(path[-1]) if path[:-1] else obj.get(path[0])
        return len(value) if isinstance(value, dict | list) else 0

    return cell


def _config_map_data(obj: RawObject, now: datetime) -> int:
    return _count("data")(obj, now) + _count("binaryData")(obj, now)


def _role_ref(obj: RawObject, _now: datetime) -> str:
    ref = mapping_at(obj, "roleRef")
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _budget(field: str) -> Cell:
    def cell(obj: RawObject, _now: datetime) -> str:
        value = mapping_at(obj, "spec").get(field)
        return "N/A" if value is None else str(value)

    return cell


def _ingress_hosts(obj: RawObject, _now: datetime) -> str:
    rules = mapping_at(obj, "spec").get("rules") or []
    hosts = [str(r.get("host")) for r in rules if isinstance(r, dict) and r.get("host")]
    return ",".join(hosts) or "*"


_NAME = Column("Name", lambda obj, _now: name_of(obj))
_AGE = Column("Age", age)
_COLUMNS: dict[str, tuple[Column, ...]] = {
    "Deployment": (
        Column("Ready", _deployment_ready),
        Column("Up-to-date", _field("status", "updatedReplicas"), "integer"),
        Column("Available", _field("status", "availableReplicas"), "integer"),
    ),
    "ReplicaSet": (
        Column("Desired", _field("spec", "replicas"), "integer"),
        Column("Current", _field("status", "replicas"), "integer"),
        Column("Ready", _field("status", "readyReplicas"), "integer"),
    ),
    "Pod": (
        Column("Ready", _pod_ready),
        Column("Status", _pod_status),
        Column("Restarts", _pod_restarts, "integer"),
    ),
    "HorizontalPodAutoscaler": (
        Column("Reference", _hpa_reference),
        Column("Targets", _hpa_targets),
        Column("MinPods", _field("spec", "minReplicas", default=1), "integer"),
        Column("MaxPods", _field("spec", "maxReplicas"), "integer"),
        Column("Replicas", _field("status", "currentReplicas"), "integer"),
    ),
    "Service": (
        Column("Type", _field("spec", "type", default="ClusterIP")),
        Column("Cluster-IP", _field("spec", "clusterIP", default="<none>")),
        Column("Port(s)", _service_ports),
    ),
    "EndpointSlice": (
        Column("AddressType", _field("addressType", default="")),
        Column("Endpoints", _slice_endpoints),
    ),
    "Namespace": (Column("Status", _field("status", "phase", default="Active")),),
    "Node": (
        Column("Status", _node_status),
        Column("CPU", _field("status", "allocatable", "cpu", default="")),
        Column("Pods", _field("status", "allocatable", "pods", default="")),
    ),
    "ConfigMap": (Column("Data", _config_map_data, "integer"),),
    "Secret": (
        Column("Type", _field("type", default="Opaque")),
        Column("Data", _count("data"), "integer"),
    ),
    "ServiceAccount": (Column("Secrets", _count("secrets"), "integer"),),
    "RoleBinding": (Column("Role", _role_ref),),
    "ClusterRoleBinding": (Column("Role", _role_ref),),
    "PodDisruptionBudget": (
        Column("Min Available", _budget("minAvailable")),
        Column("Max Unavailable", _budget("maxUnavailable")),
        Column("Allowed Disruptions", _field("status", "disruptionsAllowed"), "integer"),
    ),
    "DaemonSet": (
        Column("Desired", _field("status", "desiredNumberScheduled"), "integer"),
        Column("Current", _field("status", "currentNumberScheduled"), "integer"),
        Column("Ready", _field("status", "numberReady"), "integer"),
    ),
    "Job": (
        Column("Completions", _job_completions),
        Column("Active", _field("status", "active"), "integer"),
    ),
    "PersistentVolumeClaim": (
        Column("Status", _field("status", "phase", default="Pending")),
        Column("Capacity", _field("spec", "resources", "requests", "storage", default="")),
        Column("Access Modes", _access_modes),
    ),
    "Ingress": (
        Column("Class", _field("spec", "ingressClassName", default="<none>")),
        Column("Hosts", _ingress_hosts),
    ),
}
