"""Raw Kubernetes bodies as the sandbox API server stores and serves them.

The API server is an unstructured store, as the real one is before it reaches a typed
registry: it keeps whatever JSON a client sent, plus the fields the server owns. So a
stored object is a plain JSON mapping (``RawObject``); only the fixed wire shapes around
it (Status, watch events, lists) get a ``TypedDict``. Helpers here read and write the
metadata every object carries, so no other module digs through nested dicts by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict

from slagate.errors import StatusDetails

RawObject = dict[str, Any]
"""One Kubernetes object as JSON: ``apiVersion``, ``kind``, ``metadata`` and the rest."""


class StatusBody(TypedDict):
    """``meta.k8s.io/v1`` Status: every error body, and a successful delete."""

    kind: str
    apiVersion: str
    metadata: dict[str, str]
    status: str
    message: str
    reason: str
    details: StatusDetails
    code: int


class WatchEventBody(TypedDict):
    """One line of a watch stream: ``{"type": ..., "object": ...}``."""

    type: str
    object: RawObject | StatusBody


def rfc3339(moment: datetime) -> str:
    """Format ``moment`` as Kubernetes does: UTC, whole seconds, a ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(raw: Any) -> float | None:
    """An RFC 3339 timestamp (``2024-05-01T12:00:00Z``, fractions allowed) in Unix
    seconds; None when absent or malformed."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def utc_now() -> datetime:
    """The default clock of the sandbox: aware UTC wall time."""
    return datetime.now(UTC)


def metadata(obj: RawObject) -> dict[str, Any]:
    """The object's ``metadata`` mapping, created empty when missing or not a mapping."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def name_of(obj: RawObject) -> str:
    value = metadata(obj).get("name")
    return value if isinstance(value, str) else ""


def namespace_of(obj: RawObject) -> str:
    value = metadata(obj).get("namespace")
    return value if isinstance(value, str) else ""


def labels_of(obj: RawObject) -> dict[str, str]:
    """Labels as ``str -> str``; a missing or malformed ``labels`` reads as empty."""
    labels = metadata(obj).get("labels")
    if not isinstance(labels, dict):
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def controller_reference(obj: RawObject) -> dict[str, Any] | None:
    """The owner reference with ``controller: true``, or None (``metav1.GetControllerOf``)."""
    for ref in metadata(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def mapping_at(obj: RawObject, *path: str) -> dict[str, Any]:
    """The mapping at ``path`` (``"spec", "template"``), or an empty one if absent.

    Read-only: the empty mapping returned for a missing path is not attached to ``obj``.
    """
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def ensure_mapping(obj: RawObject, *path: str) -> dict[str, Any]:
    """The mapping at ``path``, creating empty mappings on the way (for defaulting)."""
    node = obj
    for key in path:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    return node


def pod_condition(pod: RawObject, type_: str) -> dict[str, Any] | None:
    """The raw pod condition of ``type_`` (``Ready``), or None."""
    for condition in mapping_at(pod, "status").get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == type_:
            return condition
    return None


def is_pod_ready(pod: RawObject) -> bool:
    condition = pod_condition(pod, "Ready")
    return condition is not None and condition.get("status") == "True"
