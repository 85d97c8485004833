"""The sandbox's pods as Prometheus targets: kubernetes_sd's ``pod`` role, served as http_sd.

Debian builds Prometheus without ``kubernetes_sd_configs``, so the sandbox serves the
target groups that role would discover through ``http_sd_configs`` instead, with the
same ``__meta_kubernetes_*`` labels, so that the relabeling rules of a real cluster
apply unchanged (``configuring``). What the role gives, and so what this gives:

- a pod without an IP yet gives no target;
- one target ``<podIP>:<containerPort>`` per container port, with the container's name
  and the port's name, number and protocol; a container without ports gives one
  port-free target ``<podIP>`` (relabeling adds a port);
- on every target of a pod: its namespace, name, IP, ready (the Ready condition's status
  in lower case, ``unknown`` without one), phase, node name, host IP, uid, the kind and
  name of its controller (when it has one), and ``_pod_label_<name>`` /
  ``_pod_labelpresent_<name>``, ``_pod_annotation_<name>`` /
  ``_pod_annotationpresent_<name>`` for each label and annotation, the name sanitized as
  Prometheus does (every character outside ``[a-zA-Z0-9_]`` becomes ``_``).

http_sd carries labels per group only, so each target is a group of its own. Pure: pods
in, JSON-ready groups out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypedDict

from slagate.sandbox.objects.bodies import (
    RawObject,
    controller_reference,
    labels_of,
    mapping_at,
    metadata,
    name_of,
    namespace_of,
)

META = "__meta_kubernetes_"
PRESENT = "true"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


class TargetGroup(TypedDict):
    """One entry of an http_sd response."""

    targets: list[str]
    labels: dict[str, str]


def sanitize_label_name(name: str) -> str:
    """A Kubernetes label or annotation key as a Prometheus label name
    (``app.kubernetes.io/name`` -> ``app_kubernetes_io_name``)."""
    return _INVALID.sub("_", name)


def pod_target_groups(pods: Iterable[RawObject]) -> list[TargetGroup]:
    """Every target of ``pods``, in the order given."""
    return [group for pod in pods for group in _pod_groups(pod)]


def pod_labels(pod: RawObject) -> dict[str, str]:
    """The labels shared by every target of ``pod`` (kubernetes_sd's ``podLabels``)."""
    status = mapping_at(pod, "status")
    labels = {
        f"{META}namespace": namespace_of(pod),
        f"{META}pod_name": name_of(pod),
        f"{META}pod_ip": str(status.get("podIP") or ""),
        f"{META}pod_ready": _ready(status),
        f"{META}pod_phase": str(status.get("phase") or ""),
        f"{META}pod_node_name": str(mapping_at(pod, "spec").get("nodeName") or ""),
        f"{META}pod_host_ip": str(status.get("hostIP") or ""),
        f"{META}pod_uid": str(metadata(pod).get("uid") or ""),
    }
    owner = controller_reference(pod)
    if owner is not None:
        if owner.get("kind"):
            labels[f"{META}pod_controller_kind"] = str(owner["kind"])
        if owner.get("name"):
            labels[f"{META}pod_controller_name"] = str(owner["name"])
    labels |= _mapped("pod_label", labels_of(pod))
    labels |= _mapped("pod_annotation", _annotations(pod))
    return labels


def _pod_groups(pod: RawObject) -> list[TargetGroup]:
    ip = mapping_at(pod, "status").get("podIP")
    if not ip:
        return []
    shared = pod_labels(pod)
    groups = []
    spec = mapping_at(pod, "spec")
    for field, init in (("containers", False), ("initContainers", True)):  # upstream's order
        for container in spec.get(field) or []:
            if not isinstance(container, dict):
                continue
            for target, labels in _container_targets(str(ip), container, init):
                groups.append(TargetGroup(targets=[target], labels=shared | labels))
    return groups


def _container_targets(
    ip: str, container: dict[str, Any], init: bool
) -> list[tuple[str, dict[str, str]]]:
    name = {f"{META}pod_container_name": str(container.get("name") or "")}
    name[f"{META}pod_container_image"] = str(container.get("image") or "")
    name[f"{META}pod_container_init"] = "true" if init else "false"
    ports = [p for p in container.get("ports") or [] if isinstance(p, dict)]
    if not ports:
        return [(ip, name)]
    return [(f"{ip}:{port.get('containerPort')}", name | _port_labels(port)) for port in ports]


def _port_labels(port: dict[str, Any]) -> dict[str, str]:
    return {
        f"{META}pod_container_port_name": str(port.get("name") or ""),
        f"{META}pod_container_port_number": str(port.get("containerPort")),
        f"{META}pod_container_port_protocol": str(port.get("protocol") or "TCP"),
    }


def _mapped(prefix: str, values: dict[str, str]) -> dict[str, str]:
    """``<prefix>_<name>`` = value and ``<prefix>present_<name>`` = true for each key."""
    mapped = {}
    for key, value in values.items():
        name = sanitize_label_name(key)
        mapped[f"{META}{prefix}_{name}"] = value
        mapped[f"{META}{prefix}present_{name}"] = PRESENT
    return mapped


def _annotations(obj: RawObject) -> dict[str, str]:
    annotations = metadata(obj).get("annotations")
    if not isinstance(annotations, dict):
        return {}
    return {str(k): str(v) for k, v in annotations.items()}


def _ready(status: dict[str, Any]) -> str:
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return str(condition.get("status", "Unknown")).lower()
    return "unknown"
