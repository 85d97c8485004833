"""kube-state-metrics for the sandbox: its objects as the series users query on real clusters.

Names, labels and values are kube-state-metrics v2's, for the objects an autoscaling or
rollout SLA reads (every series also has ``namespace``; the object's name is in the
label named after its kind):

- HorizontalPodAutoscaler (``horizontalpodautoscaler``): ``_spec_min_replicas``,
  ``_spec_max_replicas``, ``_status_current_replicas``, ``_status_desired_replicas``,
  ``_status_condition{condition, status}``;
- Deployment (``deployment``): ``_spec_replicas``, ``_metadata_generation``,
  ``_status_replicas``, ``_replicas_ready``, ``_replicas_available``,
  ``_replicas_unavailable``, ``_replicas_updated``, ``_observed_generation``,
  ``_status_condition{reason, condition, status}``;
- ReplicaSet (``replicaset``): ``_spec_replicas``, ``_status_replicas``,
  ``_status_ready_replicas``, ``_owner{owner_kind, owner_name, owner_is_controller}``;
- Pod (``pod`` and ``uid``): ``_info``, ``_owner``, ``_status_phase{phase}``,
  ``_status_ready{condition}``, ``_deletion_timestamp`` (Unix seconds, only while being
  deleted), ``_container_status_restarts_total{container}``;
- EndpointSlice (``endpointslice``): ``_info{addresstype}`` and ``_endpoints`` (one per
  address, with ``ready``/``serving``/``terminating`` and the target reference).

A condition is three series, ``status`` ``true``, ``false`` and ``unknown``, the current
one 1 and the others 0; a phase is five such series. ``state_families`` is pure (objects
in, metric families out); ``StateMetricsCollector`` reads the store at each scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.bodies import (
    RawObject,
    controller_reference,
    mapping_at,
    metadata,
    name_of,
    namespace_of,
    parse_time,
)
from slagate.sandbox.objects.resources import (
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    HORIZONTAL_POD_AUTOSCALERS,
    PODS,
    REPLICASETS,
)
from slagate.sandbox.objects.selection import Selection

CONDITION_STATUSES = ("true", "false", "unknown")
POD_PHASES = ("Pending", "Succeeded", "Failed", "Unknown", "Running")
_HELP = "kube-state-metrics v2 compatible, from the sandbox's objects."
NONE = "<none>"
"""kube-state-metrics' value for a label whose field is unset (a pod without owner)."""


class ClusterState(NamedTuple):
    """The objects the families are made of, as the store lists them."""

    hpas: Sequence[RawObject] = ()
    deployments: Sequence[RawObject] = ()
    replicasets: Sequence[RawObject] = ()
    pods: Sequence[RawObject] = ()
    endpoint_slices: Sequence[RawObject] = ()


def state_families(state: ClusterState) -> list[Metric]:
    """Every family, in kube-state-metrics' names (pure)."""
    return [
        *_hpa_families(state.hpas),
        *_deployment_families(state.deployments),
        *_replicaset_families(state.replicasets),
        *_pod_families(state.pods),
        *_endpoint_slice_families(state.endpoint_slices),
    ]


class StateMetricsCollector(Collector):
    """kube-state-metrics over an ``ObjectStore``: a prometheus_client collector."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        def listed(resource: Any) -> list[RawObject]:
            return self._store.list(Selection(resource)).items

        state = ClusterState(
            listed(HORIZONTAL_POD_AUTOSCALERS),
            listed(DEPLOYMENTS),
            listed(REPLICASETS),
            listed(PODS),
            listed(ENDPOINT_SLICES),
        )
        yield from state_families(state)


# -- one function per kind ------------------------------------------------------------------

Value = Callable[[RawObject], float]


def _hpa_families(hpas: Sequence[RawObject]) -> list[Metric]:
    scalars: dict[str, Value] = {
        "spec_min_replicas": lambda h: _number(mapping_at(h, "spec"), "minReplicas", 1),
        "spec_max_replicas": lambda h: _number(mapping_at(h, "spec"), "maxReplicas"),
        "status_current_replicas": lambda h: _number(mapping_at(h, "status"), "currentReplicas"),
        "status_desired_replicas": lambda h: _number(mapping_at(h, "status"), "desiredReplicas"),
    }
    kind = ("kube_horizontalpodautoscaler", "horizontalpodautoscaler")
    families = _scalar_families(kind, hpas, scalars)
    conditions = _gauge(f"{kind[0]}_status_condition", kind[1], "condition", "status")
    for hpa in hpas:
        for condition in _conditions(hpa):
            for status, value in _condition_values(condition):
                conditions.add_metric([*_identity(hpa), str(condition["type"]), status], value)
    return [*families, conditions]


def _deployment_families(deployments: Sequence[RawObject]) -> list[Metric]:
    status = _status_field
    scalars: dict[str, Value] = {
        "spec_replicas": lambda d: _number(mapping_at(d, "spec"), "replicas", 1),
        "metadata_generation": lambda d: _number(metadata(d), "generation"),
        "status_replicas": status("replicas"),
        "status_replicas_ready": status("readyReplicas"),
        "status_replicas_available": status("availableReplicas"),
        "status_replicas_unavailable": status("unavailableReplicas"),
        "status_replicas_updated": status("updatedReplicas"),
        "status_observed_generation": status("observedGeneration"),
    }
    kind = ("kube_deployment", "deployment")
    families = _scalar_families(kind, deployments, scalars)
    conditions = _gauge(f"{kind[0]}_status_condition", kind[1], "reason", "condition", "status")
    for deployment in deployments:
        for condition in _conditions(deployment):
            reason, kind_of = str(condition.get("reason", "")), str(condition["type"])
            for status_label, value in _condition_values(condition):
                labels = [*_identity(deployment), reason, kind_of, status_label]
                conditions.add_metric(labels, value)
    return [*families, conditions]


def _status_field(field: str) -> Value:
    return lambda obj: _number(mapping_at(obj, "status"), field)


def _replicaset_families(replicasets: Sequence[RawObject]) -> list[Metric]:
    scalars: dict[str, Value] = {
        "spec_replicas": lambda r: _number(mapping_at(r, "spec"), "replicas", 1),
        "status_replicas": lambda r: _number(mapping_at(r, "status"), "replicas"),
        "status_ready_replicas": lambda r: _number(mapping_at(r, "status"), "readyReplicas"),
    }
    kind = ("kube_replicaset", "replicaset")
    owners = _gauge("kube_replicaset_owner", kind[1], *_OWNER_LABELS)
    for replicaset in replicasets:
        owners.add_metric([*_identity(replicaset), *_owner(replicaset)], 1.0)
    return [*_scalar_families(kind, replicasets, scalars), owners]


_OWNER_LABELS = ("owner_kind", "owner_name", "owner_is_controller")


def _pod_families(pods: Sequence[RawObject]) -> list[Metric]:
    labels = ("pod", "uid")
    info = _gauge("kube_pod_info", *labels, "host_ip", "pod_ip", "node", "created_by_kind",
                  "created_by_name", "priority_class", "host_network")  # fmt: skip
    owner = _gauge("kube_pod_owner", *labels, *_OWNER_LABELS)
    phase = _gauge("kube_pod_status_phase", *labels, "phase")
    ready = _gauge("kube_pod_status_ready", *labels, "condition")
    deletion = _gauge("kube_pod_deletion_timestamp", *labels)
    restarts = _counter("kube_pod_container_status_restarts", *labels, "container")
    for pod in pods:
        pod_id = [*_identity(pod), str(metadata(pod).get("uid", ""))]
        info.add_metric([*pod_id, *_pod_info(pod)], 1.0)
        owner.add_metric([*pod_id, *_owner(pod)], 1.0)
        _add_phase(phase, pod_id, pod)
        for condition in _conditions(pod, "Ready"):
            for status, value in _condition_values(condition):
                ready.add_metric([*pod_id, status], value)
        deleted = parse_time(metadata(pod).get("deletionTimestamp"))
        if deleted is not None:
            deletion.add_metric(pod_id, deleted)
        for container in mapping_at(pod, "status").get("containerStatuses") or []:
            count = _number(container, "restartCount")
            restarts.add_metric([*pod_id, str(container.get("name", ""))], count)
    return [info, owner, phase, ready, deletion, restarts]


def _endpoint_slice_families(slices: Sequence[RawObject]) -> list[Metric]:
    info = _gauge("kube_endpointslice_info", "endpointslice", "addresstype")
    endpoints = _gauge("kube_endpointslice_endpoints", "endpointslice", *_ENDPOINT_LABELS)
    for endpoint_slice in slices:
        identity = _identity(endpoint_slice)
        info.add_metric([*identity, str(endpoint_slice.get("addressType", ""))], 1.0)
        for endpoint in endpoint_slice.get("endpoints") or []:
            described = _endpoint_labels(endpoint)
            for address in endpoint.get("addresses") or []:
                endpoints.add_metric([*identity, *described, str(address)], 1.0)
    return [info, endpoints]


_ENDPOINT_LABELS = (
    "ready", "serving", "terminating", "hostname", "targetref_kind", "targetref_name",
    "targetref_namespace", "nodename", "endpoint_zone", "address",
)  # fmt: skip


def _endpoint_labels(endpoint: dict[str, Any]) -> list[str]:
    """``_ENDPOINT_LABELS`` but the address; an unset field is an empty value (the series
    has no such label then, as kube-state-metrics leaves it out)."""
    conditions = mapping_at(endpoint, "conditions")
    target = mapping_at(endpoint, "targetRef")
    return [
        *(_flag(conditions.get(name)) for name in ("ready", "serving", "terminating")),
        str(endpoint.get("hostname") or ""),
        str(target.get("kind") or ""),
        str(target.get("name") or ""),
        str(target.get("namespace") or ""),
        str(endpoint.get("nodeName") or ""),
        str(endpoint.get("zone") or ""),
    ]


# -- helpers ----------------------------------------------------------------------------------


def _gauge(name: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, _HELP, labels=["namespace", *labels])


def _counter(name: str, *labels: str) -> CounterMetricFamily:
    return CounterMetricFamily(name, _HELP, labels=["namespace", *labels])


def _scalar_families(
    kind: tuple[str, str], objects: Iterable[RawObject], values: dict[str, Value]
) -> list[Metric]:
    """One gauge per ``values`` entry, ``<prefix>_<suffix>{namespace, <kind>}``."""
    prefix, label = kind
    families: list[Metric] = []
    for suffix, value in values.items():
        family = _gauge(f"{prefix}_{suffix}", label)
        for obj in objects:
            family.add_metric(_identity(obj), value(obj))
        families.append(family)
    return families


def _identity(obj: RawObject) -> list[str]:
    return [namespace_of(obj), name_of(obj)]


def _number(mapping: dict[str, Any], key: str, default: float = 0) -> float:
    value = mapping.get(key, default)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number else float(default)


def _conditions(obj: RawObject, only: str | None = None) -> list[dict[str, Any]]:
    found = mapping_at(obj, "status").get("conditions") or []
    return [c for c in found if isinstance(c, dict) and c.get("type") and only in (None, c["type"])]


def _condition_values(condition: dict[str, Any]) -> list[tuple[str, float]]:
    """kube-state-metrics' ``addConditionMetrics``: 1 for the condition's status."""
    current = str(condition.get("status", "Unknown")).lower()
    return [(status, 1.0 if status == current else 0.0) for status in CONDITION_STATUSES]


def _add_phase(family: GaugeMetricFamily, pod_id: list[str], pod: RawObject) -> None:
    current = mapping_at(pod, "status").get("phase")
    if not current:
        return
    for phase in POD_PHASES:
        family.add_metric([*pod_id, phase], 1.0 if phase == current else 0.0)


def _owner(obj: RawObject) -> list[str]:
    """The first owner reference as ``owner_kind, owner_name, owner_is_controller``."""
    owners = [o for o in metadata(obj).get("ownerReferences") or [] if isinstance(o, dict)]
    if not owners:
        return [NONE, NONE, NONE]
    first = owners[0]
    controller = "true" if first.get("controller") is True else "false"
    return [str(first.get("kind", "")), str(first.get("name", "")), controller]


def _pod_info(pod: RawObject) -> list[str]:
    status, spec = mapping_at(pod, "status"), mapping_at(pod, "spec")
    controller = controller_reference(pod) or {}
    return [
        str(status.get("hostIP") or ""),
        str(status.get("podIP") or ""),
        str(spec.get("nodeName") or ""),
        str(controller.get("kind") or NONE),
        str(controller.get("name") or NONE),
        str(spec.get("priorityClassName") or ""),
        "true" if spec.get("hostNetwork") is True else "false",
    ]


def _flag(value: Any) -> str:
    return "" if value is None else ("true" if value is True else "false")
