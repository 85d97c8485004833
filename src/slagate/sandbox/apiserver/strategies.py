"""What the server does to a body before storing it (upstream's ``RESTCreateStrategy``).

Pure rules, no locking and no revision counter (the store owns those): server-owned
metadata, the status/spec split of types with a ``status`` subresource, defaults,
validation, and the generation bump on a spec change.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Protocol

from slagate.errors import BadRequest, Conflict, StatusDetails
from slagate.sandbox.apiserver.defaulting import apply_defaults
from slagate.sandbox.apiserver.validation import validate
from slagate.sandbox.objects.bodies import (
    RawObject,
    mapping_at,
    metadata,
    name_of,
    namespace_of,
    rfc3339,
)
from slagate.sandbox.objects.resources import ResourceType

SERVER_OWNED = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "resourceVersion",
    "managedFields",
    "selfLink",
)
_NOT_SPEC = ("metadata", "status", "kind", "apiVersion")


class Allocator(Protocol):
    """Fresh values the server hands out on create."""

    def uid(self) -> str: ...

    def name_suffix(self) -> str: ...

    def cluster_ip(self) -> str: ...


def prepare_create(
    resource: ResourceType, body: Any, namespace: str | None, now: datetime, allocator: Allocator
) -> RawObject:
    """A validated, defaulted copy of ``body`` with its server-owned metadata set."""
    obj = _typed_copy(resource, body)
    meta = metadata(obj)
    _check_namespace(resource, meta, namespace)
    _assign_name(meta, allocator)
    for key in SERVER_OWNED:
        meta.pop(key, None)
    meta.update(uid=allocator.uid(), creationTimestamp=rfc3339(now), generation=1)
    if resource.has_status:
        obj["status"] = {"phase": "Pending"} if resource.kind == "Pod" else {}
    if resource.kind == "Service":
        _allocate_cluster_ip(obj, allocator)
    apply_defaults(resource, obj)
    validate(resource, obj)
    return obj


def prepare_update(
    resource: ResourceType, old: RawObject, body: Any, subresource: str = ""
) -> RawObject:
    """The object to store when ``body`` replaces ``old`` (at ``/status`` if asked)."""
    new = _typed_copy(resource, body)
    _check_identity(old, new)
    if subresource == "status":
        result = copy.deepcopy(old)
        result["status"] = new.get("status") if isinstance(new.get("status"), dict) else {}
    else:
        result = _with_server_fields(resource, old, new)
    apply_defaults(resource, result)
    validate(resource, result, old)
    if spec_part(result) != spec_part(old):
        metadata(result)["generation"] = int(metadata(old).get("generation", 1)) + 1
    return result


def _typed_copy(resource: ResourceType, body: Any) -> RawObject:
    if not isinstance(body, dict):
        raise BadRequest(f"the body of a {resource.kind} must be a JSON object")
    obj = copy.deepcopy(body)
    for key, expected in (("apiVersion", resource.api_version), ("kind", resource.kind)):
        sent = obj.setdefault(key, expected)
        if sent != expected:
            raise BadRequest(
                f"the {key} in the body ({sent}) does not match the expected "
                f"{key} ({expected}) of {resource.qualified_plural}"
            )
    return obj


def _check_namespace(resource: ResourceType, meta: dict[str, Any], namespace: str | None) -> None:
    if not resource.namespaced:
        meta.pop("namespace", None)
        return
    sent = meta.setdefault("namespace", namespace)
    if sent != namespace:
        raise BadRequest(
            "the namespace of the provided object does not match the namespace "
            f"sent on the request ({sent!r} != {namespace!r})"
        )


def _assign_name(meta: dict[str, Any], allocator: Allocator) -> None:
    prefix = meta.get("generateName")
    if not meta.get("name") and isinstance(prefix, str) and prefix:
        meta["name"] = prefix + allocator.name_suffix()


def _allocate_cluster_ip(obj: RawObject, allocator: Allocator) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict) and spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
        spec["clusterIP"] = allocator.cluster_ip()
    if isinstance(spec, dict) and spec.get("clusterIP"):
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")


def _check_identity(old: RawObject, new: RawObject) -> None:
    if name_of(new) != name_of(old):
        raise BadRequest(
            f"the name of the object ({name_of(new)}) does not match the name on "
            f"the URL ({name_of(old)})"
        )
    sent = metadata(new).get("namespace")
    if sent is not None and sent != namespace_of(old):
        raise BadRequest(
            f"the namespace of the object ({sent}) does not match the namespace "
            f"on the URL ({namespace_of(old)})"
        )


def _with_server_fields(resource: ResourceType, old: RawObject, new: RawObject) -> RawObject:
    meta, old_meta = metadata(new), metadata(old)
    for key in (*SERVER_OWNED, "name", "namespace"):
        meta.pop(key, None)
        if key in old_meta:
            meta[key] = copy.deepcopy(old_meta[key])
    if resource.has_status:
        new["status"] = copy.deepcopy(old.get("status", {}))
    if resource.kind == "Service":
        _keep_cluster_ip(old, new)
    return new


def _keep_cluster_ip(old: RawObject, new: RawObject) -> None:
    old_spec, new_spec = old.get("spec") or {}, new.get("spec")
    if isinstance(new_spec, dict) and not new_spec.get("clusterIP") and old_spec.get("clusterIP"):
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if key in old_spec:
                new_spec.setdefault(key, copy.deepcopy(old_spec[key]))


def spec_part(obj: RawObject) -> dict[str, Any]:
    """Everything but metadata and status: a change here bumps ``metadata.generation``."""
    return {k: v for k, v in obj.items() if k not in _NOT_SPEC}


def check_resource_version(resource: ResourceType, current: RawObject, body: Any) -> None:
    """409 when ``body`` names a resourceVersion other than the stored one; an update
    without one is unconditional, as upstream allows for these types."""
    sent = mapping_at(body, "metadata").get("resourceVersion") if isinstance(body, dict) else None
    if sent in (None, "") or sent == metadata(current).get("resourceVersion"):
        return
    raise conflict(resource, name_of(current))


def conflict(resource: ResourceType, name: str) -> Conflict:
    details: StatusDetails = {"name": name, "group": resource.group, "kind": resource.plural}
    return Conflict(
        f'Operation cannot be fulfilled on {resource.qualified_plural} "{name}": '
        "the object has been modified; please apply your changes to the latest "
        "version and try again",
        details,
    )
