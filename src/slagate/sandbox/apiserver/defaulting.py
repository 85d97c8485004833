"""Defaults the real API server fills in on every write (upstream ``defaults.go``).

Applied to each incoming body before validation, so controllers and clients read the
same numbers a real cluster would give them (probe periods, grace periods, rollout
percentages, HPA behavior). Functions mutate the fresh copy they are handed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slagate.sandbox.apiserver.configdata import default_secret
from slagate.sandbox.objects.bodies import RawObject, ensure_mapping, mapping_at
from slagate.sandbox.objects.resources import ResourceType

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_PROBE_DEFAULTS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
_SCALE_UP_RULES = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
# No stabilizationWindowSeconds: upstream leaves it unset so that the controller's
# --horizontal-pod-autoscaler-downscale-stabilization applies.
_SCALE_DOWN_RULES = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}
DEFAULT_CPU_UTILIZATION = 80


def apply_defaults(resource: ResourceType, obj: RawObject) -> None:
    """Fill the defaults of ``resource``'s kind into ``obj`` in place."""
    defaulter = None if resource.custom else _DEFAULTERS.get(resource.kind)
    if defaulter is not None:
        defaulter(obj)


def default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for field in ("containers", "initContainers"):
        for container in _mappings(spec.get(field)):
            _default_container(container)


def _default_container(container: dict[str, Any]) -> None:
    image = str(container.get("image", ""))
    untagged = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
    pull = "Always" if untagged or image.endswith(":latest") else "IfNotPresent"
    container.setdefault("imagePullPolicy", pull)
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in _mappings(container.get("ports")):
        port.setdefault("protocol", "TCP")
    for probe_field in _PROBES:
        if isinstance(container.get(probe_field), dict):
            _default_probe(container[probe_field])


def _default_probe(probe: dict[str, Any]) -> None:
    for key, value in _PROBE_DEFAULTS.items():
        probe.setdefault(key, value)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("scheme", "HTTP")


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _default_pod(obj: RawObject) -> None:
    default_pod_spec(ensure_mapping(obj, "spec"))


def _default_template(obj: RawObject) -> None:
    spec = ensure_mapping(obj, "spec")
    spec.setdefault("replicas", 1)
    if isinstance(spec.get("template"), dict):
        ensure_mapping(spec, "template", "metadata")
        default_pod_spec(ensure_mapping(spec, "template", "spec"))


def _default_deployment(obj: RawObject) -> None:
    _default_template(obj)
    spec = ensure_mapping(obj, "spec")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = ensure_mapping(spec, "strategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = ensure_mapping(strategy, "rollingUpdate")
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")


def _default_replicaset(obj: RawObject) -> None:
    _default_template(obj)
    ensure_mapping(obj, "status").setdefault("replicas", 0)


def _default_service(obj: RawObject) -> None:
    spec = ensure_mapping(obj, "spec")
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in _mappings(spec.get("ports")):
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    ensure_mapping(obj, "status", "loadBalancer")


def _default_hpa(obj: RawObject) -> None:
    spec = ensure_mapping(obj, "spec")
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        target = {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    if isinstance(spec.get("behavior"), dict):
        _default_rules(spec["behavior"], "scaleUp", _SCALE_UP_RULES)
        _default_rules(spec["behavior"], "scaleDown", _SCALE_DOWN_RULES)
    ensure_mapping(obj, "status").setdefault("desiredReplicas", 0)


def _default_rules(behavior: dict[str, Any], field: str, defaults: dict[str, Any]) -> None:
    rules = ensure_mapping(behavior, field)
    for key, value in defaults.items():
        if rules.get(key) is None:
            rules[key] = [dict(p) for p in value] if isinstance(value, list) else value


def _default_endpoint_slice(obj: RawObject) -> None:
    if obj.get("endpoints") is None:
        obj["endpoints"] = []
    for port in _mappings(obj.get("ports")):
        port.setdefault("protocol", "TCP")


def _default_namespace(obj: RawObject) -> None:
    ensure_mapping(obj, "status").setdefault("phase", "Active")
    name = mapping_at(obj, "metadata").get("name")
    if isinstance(name, str):
        ensure_mapping(obj, "metadata", "labels")["kubernetes.io/metadata.name"] = name


def _default_job(obj: RawObject) -> None:
    """Upstream's Job defaults; a Job's pods have no default restartPolicy (validation
    asks for Never or OnFailure), unlike every other pod template."""
    spec = ensure_mapping(obj, "spec")
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    if isinstance(spec.get("template"), dict):
        ensure_mapping(spec, "template", "metadata")
        pod = ensure_mapping(spec, "template", "spec")
        chosen = pod.get("restartPolicy")
        default_pod_spec(pod)
        if chosen is None:
            del pod["restartPolicy"]


def _default_daemon_set(obj: RawObject) -> None:
    spec = ensure_mapping(obj, "spec")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = ensure_mapping(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = ensure_mapping(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    if isinstance(spec.get("template"), dict):
        ensure_mapping(spec, "template", "metadata")
        default_pod_spec(ensure_mapping(spec, "template", "spec"))


def _default_disruption_budget(obj: RawObject) -> None:
    status = ensure_mapping(obj, "status")
    for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        status.setdefault(key, 0)


_DEFAULTERS: dict[str, Callable[[RawObject], None]] = {
    "Pod": _default_pod,
    "Deployment": _default_deployment,
    "ReplicaSet": _default_replicaset,
    "Service": _default_service,
    "HorizontalPodAutoscaler": _default_hpa,
    "EndpointSlice": _default_endpoint_slice,
    "Namespace": _default_namespace,
    "Secret": default_secret,
    "DaemonSet": _default_daemon_set,
    "Job": _default_job,
    "PodDisruptionBudget": _default_disruption_budget,
}
