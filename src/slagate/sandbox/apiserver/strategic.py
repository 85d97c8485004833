"""Strategic merge patch, the default PATCH of kubectl and the Python client.

Like a JSON merge patch, except that some lists merge element by element on a key
instead of being replaced. Upstream reads the keys from Go struct tags; the sandbox
knows no schema, so it keys on the field name (and, for ``ports``, on where the list
sits). Directives: ``$patch: replace|delete|merge`` in maps and list elements,
``$retainKeys``, ``$deleteFromPrimitiveList/<field>``; ``$setElementOrder/<field>`` is
accepted and ignored (order is: original elements first, new ones appended).
"""

from __future__ import annotations

import copy
from typing import Any

from slagate.errors import BadRequest, PatchFailed

_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "name",
    "imagePullSecrets": "name",
    "resourceClaims": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_PRIMITIVE_MERGE_LISTS = frozenset({"finalizers"})
_DELETE = object()
"""Returned by a map merge whose patch says ``$patch: delete``: drop the whole map."""


def apply_strategic_merge_patch(original: dict[str, Any], patch: Any) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise BadRequest("a strategic merge patch must be a JSON object")
    merged = _merge_map(copy.deepcopy(original), patch, ())
    if merged is _DELETE:
        raise PatchFailed("$patch: delete cannot remove the whole object")
    result: dict[str, Any] = merged
    return result


def merge_key(path: tuple[str, ...]) -> str | None:
    """The key a list at ``path`` merges on, or None for an atomic list.

    Container ports merge on ``containerPort``, Service ports on ``port``; other
    ``ports`` lists (EndpointSlice) are atomic, as upstream.
    """
    field = path[-1]
    if field == "ports":
        if len(path) >= 2 and path[-2] in _CONTAINER_LISTS:
            return "containerPort"
        return "port" if path == ("spec", "ports") else None
    return _MERGE_KEYS.get(field)


def _merge_map(original: Any, patch: dict[str, Any], path: tuple[str, ...]) -> Any:
    target: dict[str, Any] = original if isinstance(original, dict) else {}
    directive = patch.get("$patch", "merge")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return _merge_map({}, {k: v for k, v in patch.items() if k != "$patch"}, path)
    if directive != "merge":
        raise PatchFailed(f"unknown $patch directive {directive!r} at {_dotted(path)}")
    for key, value in patch.items():
        _merge_field(target, key, value, path)
    return _retain_keys(target, patch.get("$retainKeys"))


def _merge_field(target: dict[str, Any], key: str, value: Any, path: tuple[str, ...]) -> None:
    if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
        return
    if key.startswith("$deleteFromPrimitiveList/"):
        _delete_from_primitive_list(target, key.partition("/")[2], value)
    elif value is None:
        target.pop(key, None)
    elif isinstance(value, dict):
        merged = _merge_map(target.get(key), value, (*path, key))
        if merged is _DELETE:
            target.pop(key, None)
        else:
            target[key] = merged
    elif isinstance(value, list):
        target[key] = _merge_list(target.get(key), value, (*path, key))
    else:
        target[key] = value


def _retain_keys(target: dict[str, Any], retain: Any) -> dict[str, Any]:
    if retain is None:
        return target
    if not isinstance(retain, list):
        raise PatchFailed("$retainKeys must be a list of field names")
    return {k: v for k, v in target.items() if k in retain}


def _delete_from_primitive_list(target: dict[str, Any], field: str, values: Any) -> None:
    current = target.get(field)
    if isinstance(current, list) and isinstance(values, list):
        target[field] = [item for item in current if item not in values]


def _merge_list(original: Any, patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    current = original if isinstance(original, list) else []
    if path[-1] in _PRIMITIVE_MERGE_LISTS:
        return current + [item for item in patch if item not in current]
    key = merge_key(path)
    if key is None:
        return [_clean(item, path) for item in patch]
    replace = any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch)
    result = [] if replace else current
    for item in patch:
        if not (isinstance(item, dict) and item.get("$patch") == "replace"):
            result = _merge_element(result, item, key, path)
    return result


def _merge_element(items: list[Any], patch: Any, key: str, path: tuple[str, ...]) -> list[Any]:
    if not isinstance(patch, dict) or key not in patch:
        raise PatchFailed(f"{_dotted(path)}: every element must be an object with {key!r}")
    position = next(
        (i for i, e in enumerate(items) if isinstance(e, dict) and e.get(key) == patch[key]), None
    )
    if patch.get("$patch") == "delete":
        return [e for i, e in enumerate(items) if i != position]
    if position is None:
        return [*items, _merge_map({}, patch, path)]
    merged = _merge_map(items[position], patch, path)
    return [merged if i == position else e for i, e in enumerate(items)]


def _clean(item: Any, path: tuple[str, ...]) -> Any:
    """An element of an atomic list, with directives and nulls stripped from maps."""
    return _merge_map({}, item, path) if isinstance(item, dict) else item


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path) or "<root>"
