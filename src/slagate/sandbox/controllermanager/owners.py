"""Owner references: who controls an object, and the reference a controller writes.

Controllers find what they own by the ``controller: true`` owner reference and its uid,
as upstream does once an object is adopted; the store's garbage collection follows the
same references when an owner is deleted.
"""

from __future__ import annotations

from typing import Any

from slagate.sandbox.objects.bodies import (
    RawObject,
    controller_reference,
    metadata,
    name_of,
    namespace_of,
)

Key = tuple[str, str]
"""``(namespace, name)`` of a namespaced object: what work queues hold."""


def key_of(obj: RawObject) -> Key:
    return namespace_of(obj), name_of(obj)


def controller_name(obj: RawObject, kind: str) -> str | None:
    """The name of the object's controller if it is of ``kind``."""
    ref = controller_reference(obj)
    if ref is None or ref.get("kind") != kind:
        return None
    name = ref.get("name")
    return name if isinstance(name, str) and name else None


def is_controlled_by(obj: RawObject, owner: RawObject) -> bool:
    ref = controller_reference(obj)
    return ref is not None and ref.get("uid") == metadata(owner).get("uid")


def owner_reference(owner: RawObject) -> dict[str, Any]:
    """The reference a controller puts on what it creates (upstream
    ``NewControllerRef``): the owner is its controller and blocks its deletion."""
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": name_of(owner),
        "uid": metadata(owner).get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }
