"""Validation of incoming manifests: the 422 ``Invalid`` answers of a real API server.

Only the rules a harness or a hand-written manifest is likely to trip are checked (a
Deployment without selector or template, a selector that does not match the template,
negative replicas, an HPA without target). Each failure is a ``FieldCause`` naming the
JSON path, worded as upstream words it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slagate.errors import ApiError, FieldCause, Invalid
from slagate.numbers import INT32_MAX
from slagate.sandbox.apiserver.configdata import config_map_causes, secret_causes
from slagate.sandbox.apiserver.customresources import crd_causes
from slagate.sandbox.objects.bodies import RawObject, mapping_at, name_of
from slagate.sandbox.objects.labelselectors import selector_from_object
from slagate.sandbox.objects.resources import ResourceType

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ADDRESS_TYPES = ("IPv4", "IPv6", "FQDN")
Causes = list[FieldCause]


def validate(resource: ResourceType, obj: RawObject, old: RawObject | None = None) -> None:
    """Raise ``Invalid`` listing every problem of ``obj`` (``old`` set on updates)."""
    causes = _metadata_causes(obj)
    check = None if resource.custom else _VALIDATORS.get(resource.kind)
    if check is not None:
        causes.extend(check(obj))
    if old is not None and resource.kind in ("Deployment", "ReplicaSet", "DaemonSet"):
        causes.extend(_immutable_selector(obj, old))
    if old is not None and resource.kind in ("RoleBinding", "ClusterRoleBinding"):
        causes.extend(_immutable_role_ref(obj, old))
    if causes:
        raise Invalid(resource.kind, name_of(obj), causes, resource.group)


def required(field: str) -> FieldCause:
    return FieldCause(field, "Required value", "FieldValueRequired")


def invalid(field: str, value: Any, detail: str) -> FieldCause:
    return FieldCause(field, f"Invalid value: {value!r}: {detail}")


def _metadata_causes(obj: RawObject) -> Causes:
    name = name_of(obj)
    if not name:
        return [required("metadata.name")]
    causes = []
    if len(name) > 253 or not _SUBDOMAIN.match(name):
        detail = (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character"
        )
        causes.append(invalid("metadata.name", name, detail))
    for field in ("labels", "annotations"):
        value = mapping_at(obj, "metadata").get(field)
        if value is not None and not _is_string_map(value):
            causes.append(invalid(f"metadata.{field}", value, "must be a map of strings"))
    return causes


def _is_string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _as_int(value: Any) -> int | None:
    """``value`` if it is a JSON integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _non_negative(obj: RawObject, field: str) -> Causes:
    value = mapping_at(obj, "spec").get(field)
    number = _as_int(value)
    if value is None or (number is not None and 0 <= number <= INT32_MAX):
        return []
    if number is not None and number > INT32_MAX:
        return [invalid(f"spec.{field}", value, f"must be at most {INT32_MAX} (int32)")]
    return [invalid(f"spec.{field}", value, "must be greater than or equal to 0")]


def _workload(obj: RawObject) -> Causes:
    causes = _non_negative(obj, "replicas") + _non_negative(obj, "minReadySeconds")
    spec = mapping_at(obj, "spec")
    if not isinstance(spec.get("template"), dict):
        causes.append(required("spec.template"))
    else:
        causes.extend(_pod_spec(mapping_at(spec, "template", "spec"), "spec.template.spec"))
    return causes + _selector(spec)


def _selector(spec: dict[str, Any]) -> Causes:
    raw = spec.get("selector")
    if not isinstance(raw, dict) or not (raw.get("matchLabels") or raw.get("matchExpressions")):
        return [required("spec.selector")]
    try:
        selector = selector_from_object(raw)
    except ApiError as error:
        return [invalid("spec.selector", raw, error.message)]
    labels = mapping_at(spec, "template", "metadata").get("labels") or {}
    if not _is_string_map(labels):
        return [invalid("spec.template.metadata.labels", labels, "must be a map of strings")]
    if isinstance(spec.get("template"), dict) and not selector.matches(labels):
        return [
            invalid(
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        ]
    return []


def _immutable_selector(obj: RawObject, old: RawObject) -> Causes:
    new_selector = mapping_at(obj, "spec").get("selector")
    if new_selector == mapping_at(old, "spec").get("selector"):
        return []
    return [invalid("spec.selector", new_selector, "field is immutable")]


def _deployment(obj: RawObject) -> Causes:
    causes = _workload(obj) + _non_negative(obj, "progressDeadlineSeconds")
    strategy = mapping_at(obj, "spec", "strategy")
    kind = strategy.get("type")
    if kind not in ("RollingUpdate", "Recreate"):
        causes.append(
            FieldCause(
                "spec.strategy.type", f"Unsupported value: {kind!r}", "FieldValueNotSupported"
            )
        )
    rolling = mapping_at(strategy, "rollingUpdate")
    if (
        kind == "RollingUpdate"
        and _is_zero(rolling.get("maxSurge"))
        and _is_zero(rolling.get("maxUnavailable"))
    ):
        causes.append(
            invalid(
                "spec.strategy.rollingUpdate.maxUnavailable",
                rolling.get("maxUnavailable"),
                "may not be 0 when `maxSurge` is 0",
            )
        )
    return causes


def _is_zero(value: Any) -> bool:
    return value in (0, "0", "0%")


def _pod(obj: RawObject) -> Causes:
    return _pod_spec(mapping_at(obj, "spec"), "spec")


def _pod_spec(spec: dict[str, Any], path: str) -> Causes:
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [required(f"{path}.containers")]
    causes: Causes = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        causes.extend(_container(container, f"{path}.containers[{index}]", seen))
    return causes


def _container(container: Any, path: str, seen: set[str]) -> Causes:
    if not isinstance(container, dict):
        return [invalid(path, container, "must be an object")]
    causes = []
    name = container.get("name")
    if not name:
        causes.append(required(f"{path}.name"))
    elif name in seen:
        causes.append(
            FieldCause(f"{path}.name", f"Duplicate value: {name!r}", "FieldValueDuplicate")
        )
    seen.add(str(name))
    if not container.get("image"):
        causes.append(required(f"{path}.image"))
    return causes


def _list_at(node: dict[str, Any], key: str, path: str) -> tuple[list[Any], Causes]:
    """The list at ``node[key]`` (absent: empty), or the cause when it is no list: what
    the real API server's decoding refuses before any validation."""
    value = node.get(key)
    if value is None or isinstance(value, list):
        return value or [], []
    return [], [invalid(path, value, "must be a list")]


def _service(obj: RawObject) -> Causes:
    ports, causes = _list_at(mapping_at(obj, "spec"), "ports", "spec.ports")
    for index, port in enumerate(ports):
        value = port.get("port") if isinstance(port, dict) else None
        number = _as_int(value)
        if number is None or not 1 <= number <= 65535:
            causes.append(
                invalid(
                    f"spec.ports[{index}].port", value, "must be between 1 and 65535, inclusive"
                )
            )
    return causes


def _hpa(obj: RawObject) -> Causes:
    spec = mapping_at(obj, "spec")
    target = mapping_at(spec, "scaleTargetRef")
    causes = [required(f"spec.scaleTargetRef.{f}") for f in ("kind", "name") if not target.get(f)]
    maximum, minimum = _as_int(spec.get("maxReplicas")), _as_int(spec.get("minReplicas", 1))
    if maximum is None or not 1 <= maximum <= INT32_MAX:
        message = f"must be between 1 and {INT32_MAX} (int32), inclusive"
        causes.append(invalid("spec.maxReplicas", spec.get("maxReplicas"), message))
    elif minimum is None or not 1 <= minimum <= maximum:
        message = "must be between 1 and spec.maxReplicas, inclusive"
        causes.append(invalid("spec.minReplicas", spec.get("minReplicas"), message))
    metrics, wrong = _list_at(spec, "metrics", "spec.metrics")
    causes += wrong + [
        invalid(f"spec.metrics[{i}]", m, "must be an object")
        for i, m in enumerate(metrics)
        if not isinstance(m, dict)
    ]
    return causes + _behavior(spec.get("behavior"))


def _behavior(behavior: Any) -> Causes:
    """``spec.behavior`` as upstream validates it: the controller reads it unchecked."""
    if behavior is None:
        return []
    if not isinstance(behavior, dict):
        return [invalid("spec.behavior", behavior, "must be an object")]
    causes: Causes = []
    for direction in ("scaleUp", "scaleDown"):
        rules, path = behavior.get(direction), f"spec.behavior.{direction}"
        if rules is not None and not isinstance(rules, dict):
            causes.append(invalid(path, rules, "must be an object"))
        elif rules is not None:
            causes += _scaling_rules(rules, path)
    return causes


def _scaling_rules(rules: dict[str, Any], path: str) -> Causes:
    causes: Causes = []
    window = rules.get("stabilizationWindowSeconds")
    seconds = _as_int(window)
    if window is not None and (seconds is None or not 0 <= seconds <= 3600):
        message = "must be between 0 and 3600, inclusive"
        causes.append(invalid(f"{path}.stabilizationWindowSeconds", window, message))
    select = rules.get("selectPolicy")
    if select is not None and select not in ("Max", "Min", "Disabled"):
        causes.append(_unsupported(f"{path}.selectPolicy", select))
    policies, wrong = _list_at(rules, "policies", f"{path}.policies")
    causes += wrong
    for index, policy in enumerate(policies):
        causes += _scaling_policy(policy, f"{path}.policies[{index}]")
    return causes


def _scaling_policy(policy: Any, path: str) -> Causes:
    if not isinstance(policy, dict):
        return [invalid(path, policy, "must be an object")]
    causes: Causes = []
    if policy.get("type") not in ("Pods", "Percent"):
        causes.append(_unsupported(f"{path}.type", policy.get("type")))
    if (_as_int(policy.get("value")) or 0) <= 0:
        causes.append(invalid(f"{path}.value", policy.get("value"), "must be greater than zero"))
    if not 1 <= (_as_int(policy.get("periodSeconds")) or 0) <= 1800:
        message = "must be between 1 and 1800, inclusive"
        causes.append(invalid(f"{path}.periodSeconds", policy.get("periodSeconds"), message))
    return causes


def _unsupported(field: str, value: Any) -> FieldCause:
    return FieldCause(field, f"Unsupported value: {value!r}", "FieldValueNotSupported")


def _endpoint_slice(obj: RawObject) -> Causes:
    causes = []
    if obj.get("addressType") not in _ADDRESS_TYPES:
        causes.append(
            FieldCause(
                "addressType",
                f"Unsupported value: {obj.get('addressType')!r}",
                "FieldValueNotSupported",
            )
        )
    endpoints, wrong = _list_at(obj, "endpoints", "endpoints")
    causes += wrong
    for index, endpoint in enumerate(endpoints):
        if not isinstance(endpoint, dict) or not endpoint.get("addresses"):
            causes.append(required(f"endpoints[{index}].addresses"))
    return causes


def _event(obj: RawObject) -> Causes:
    return [] if isinstance(obj.get("involvedObject"), dict) else [required("involvedObject")]


def _rules(obj: RawObject) -> Causes:
    """Role and ClusterRole: every rule names verbs, and resources or nonResourceURLs."""
    rules, causes = _list_at(obj, "rules", "rules")
    for index, rule in enumerate(rules):
        path = f"rules[{index}]"
        if not isinstance(rule, dict):
            causes.append(invalid(path, rule, "must be an object"))
            continue
        if not rule.get("verbs"):
            causes.append(required(f"{path}.verbs"))
        if rule.get("resources") and rule.get("nonResourceURLs"):
            message = "rules cannot apply to both regular resources and non-resource URLs"
            causes.append(invalid(f"{path}.nonResourceURLs", rule["nonResourceURLs"], message))
        elif rule.get("resources") and rule.get("apiGroups") is None:
            message = "resource rules must supply at least one api group"
            causes.append(FieldCause(f"{path}.apiGroups", message, "FieldValueRequired"))
        causes += [
            invalid(f"{path}.{key}", rule[key], "must be a list of strings")
            for key in ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")
            if rule.get(key) is not None and not _is_string_list(rule[key])
        ]
    return causes


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_ROLE_KINDS = {"RoleBinding": ("Role", "ClusterRole"), "ClusterRoleBinding": ("ClusterRole",)}
_SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def _binding(obj: RawObject) -> Causes:
    ref = mapping_at(obj, "roleRef")
    causes = [required(f"roleRef.{key}") for key in ("kind", "name") if not ref.get(key)]
    kinds = _ROLE_KINDS[str(obj.get("kind"))]
    if ref.get("kind") and ref.get("kind") not in kinds:
        causes.append(_unsupported("roleRef.kind", ref.get("kind")))
    subjects, wrong = _list_at(obj, "subjects", "subjects")
    causes += wrong
    for index, subject in enumerate(subjects):
        path = f"subjects[{index}]"
        if not isinstance(subject, dict) or subject.get("kind") not in _SUBJECT_KINDS:
            kind = subject.get("kind") if isinstance(subject, dict) else subject
            causes.append(_unsupported(f"{path}.kind", kind))
        elif not subject.get("name"):
            causes.append(required(f"{path}.name"))
        elif subject["kind"] == "ServiceAccount" and obj.get("kind") == "ClusterRoleBinding":
            causes += [] if subject.get("namespace") else [required(f"{path}.namespace")]
    return causes


def _immutable_role_ref(obj: RawObject, old: RawObject) -> Causes:
    if obj.get("roleRef") == old.get("roleRef"):
        return []
    return [invalid("roleRef", obj.get("roleRef"), "cannot change roleRef")]


def _disruption_budget(obj: RawObject) -> Causes:
    spec = mapping_at(obj, "spec")
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        message = "minAvailable and maxUnavailable cannot be both set"
        return [invalid("spec", spec, message)]
    raw = spec.get("selector")
    if raw is None:
        return []
    try:
        selector_from_object(raw)
    except ApiError as error:
        return [invalid("spec.selector", raw, error.message)]
    return []


def _daemon_set(obj: RawObject) -> Causes:
    spec = mapping_at(obj, "spec")
    causes = _non_negative(obj, "minReadySeconds")
    if not isinstance(spec.get("template"), dict):
        return [*causes, required("spec.template")]
    causes.extend(_pod_spec(mapping_at(spec, "template", "spec"), "spec.template.spec"))
    return causes + _selector(spec)


def _job(obj: RawObject) -> Causes:
    """A Job is stored, not run (docs/sandbox.md), but checked as upstream checks it."""
    spec = mapping_at(obj, "spec")
    causes = _non_negative(obj, "backoffLimit") + _non_negative(obj, "ttlSecondsAfterFinished")
    deadline = _as_int(spec.get("activeDeadlineSeconds"))
    if spec.get("activeDeadlineSeconds") is not None and (deadline is None or deadline <= 0):
        value = spec.get("activeDeadlineSeconds")
        causes.append(invalid("spec.activeDeadlineSeconds", value, "must be greater than 0"))
    if not isinstance(spec.get("template"), dict):
        return [*causes, required("spec.template")]
    pod = mapping_at(spec, "template", "spec")
    causes.extend(_pod_spec(pod, "spec.template.spec"))
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        field = "spec.template.spec.restartPolicy"
        if pod.get("restartPolicy") is None:
            causes.append(required(field))
        else:
            detail = 'supported values: "OnFailure", "Never"'
            causes.append(invalid(field, pod.get("restartPolicy"), detail))
    return causes


def _claim(obj: RawObject) -> Causes:
    spec = mapping_at(obj, "spec")
    causes: Causes = []
    if not spec.get("accessModes"):
        causes.append(required("spec.accessModes"))
    if mapping_at(spec, "resources", "requests").get("storage") is None:
        causes.append(required("spec.resources[storage]"))
    return causes


_VALIDATORS: dict[str, Callable[[RawObject], Causes]] = {
    "Pod": _pod,
    "Deployment": _deployment,
    "ReplicaSet": _workload,
    "Service": _service,
    "HorizontalPodAutoscaler": _hpa,
    "EndpointSlice": _endpoint_slice,
    "Event": _event,
    "ConfigMap": config_map_causes,
    "Secret": secret_causes,
    "Role": _rules,
    "ClusterRole": _rules,
    "RoleBinding": _binding,
    "ClusterRoleBinding": _binding,
    "PodDisruptionBudget": _disruption_budget,
    "DaemonSet": _daemon_set,
    "Job": _job,
    "PersistentVolumeClaim": _claim,
    "CustomResourceDefinition": crd_causes,
}
