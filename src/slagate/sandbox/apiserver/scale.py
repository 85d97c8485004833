"""The ``/scale`` subresource: a Deployment or ReplicaSet seen as an autoscaling/v1 Scale.

``status.selector`` is the label selector in string form; that is how the HPA and
``kubectl scale`` find the pods.
"""

from __future__ import annotations

from typing import Any

from slagate.errors import ApiError, BadRequest, Invalid
from slagate.sandbox.apiserver.validation import invalid
from slagate.sandbox.objects.bodies import RawObject, mapping_at, metadata
from slagate.sandbox.objects.labelselectors import selector_from_object

_COPIED_META = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def to_scale(obj: RawObject) -> RawObject:
    meta = metadata(obj)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {key: meta[key] for key in _COPIED_META if key in meta},
        "spec": {"replicas": mapping_at(obj, "spec").get("replicas", 0)},
        "status": {
            "replicas": mapping_at(obj, "status").get("replicas", 0),
            "selector": _selector_string(mapping_at(obj, "spec").get("selector")),
        },
    }


def _selector_string(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    try:
        return str(selector_from_object(raw))
    except ApiError:
        return ""


def apply_scale(obj: RawObject, scale: Any) -> RawObject:
    """``obj`` with the replicas of ``scale``; the Scale's resourceVersion is carried over
    so the store's optimistic-concurrency check applies to it."""
    if not isinstance(scale, dict):
        raise BadRequest("the body of a Scale must be a JSON object")
    replicas = mapping_at(scale, "spec").get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        cause = invalid("spec.replicas", replicas, "must be greater than or equal to 0")
        raise Invalid("Scale", str(metadata(obj).get("name", "")), [cause], "autoscaling")
    obj.setdefault("spec", {})["replicas"] = replicas
    sent_version = mapping_at(scale, "metadata").get("resourceVersion")
    if sent_version:
        metadata(obj)["resourceVersion"] = sent_version
    return obj
