"""JSON Patch (RFC 6902): add, remove, replace, move, copy, test.

``apply_json_patch`` works on a deep copy and is all-or-nothing. A patch document that
is not a list of operation objects is a ``BadRequest`` (400); an operation that cannot
apply (missing path, failed test) is ``Invalid``-like 422, as upstream answers.
"""

from __future__ import annotations

import copy
from typing import Any

from slagate.errors import BadRequest, PatchFailed


def apply_json_patch(document: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise BadRequest("a JSON patch must be a JSON array of operations")
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise BadRequest(f"JSON patch operation {index} is not an object")
        result = _apply_one(result, operation, index)
    return result


def _apply_one(document: Any, operation: dict[str, Any], index: int) -> Any:
    op = operation.get("op")
    path = _string_field(operation, "path", index)
    if op in ("add", "replace", "test") and "value" not in operation:
        raise PatchFailed(f"JSON patch operation {index} ({op}) has no value")
    match op:
        case "add":
            return _add(document, path, copy.deepcopy(operation["value"]))
        case "remove":
            return _remove(document, path)[0]
        case "replace":
            value = copy.deepcopy(operation["value"])
            return value if path == "" else _add(_remove(document, path)[0], path, value)
        case "move":
            return _move(document, _string_field(operation, "from", index), path)
        case "copy":
            value = copy.deepcopy(_get(document, _string_field(operation, "from", index)))
            return _add(document, path, value)
        case "test":
            return _test(document, path, operation["value"])
    raise PatchFailed(f"JSON patch operation {index} has an unknown op {op!r}")


def _string_field(operation: dict[str, Any], key: str, index: int) -> str:
    value = operation.get(key)
    if not isinstance(value, str):
        raise PatchFailed(f"JSON patch operation {index} needs a string {key!r}")
    return value


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchFailed(f"JSON pointer {pointer!r} must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(container: list[Any], token: str, pointer: str, *, for_add: bool = False) -> int:
    if for_add and token == "-":
        return len(container)
    if not token.isdigit() or (token.startswith("0") and token != "0"):
        raise PatchFailed(f"invalid array index {token!r} in {pointer!r}")
    index, limit = int(token), len(container) + (1 if for_add else 0)
    if index >= limit:
        raise PatchFailed(f"array index {index} out of range in {pointer!r}")
    return index


def _get(document: Any, pointer: str) -> Any:
    node = document
    for token in _tokens(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, pointer)]
        else:
            raise PatchFailed(f"path {pointer!r} does not exist")
    return node


def _parent(document: Any, pointer: str) -> tuple[Any, str]:
    tokens = _tokens(pointer)
    parent_pointer = "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens[:-1])
    return _get(document, parent_pointer), tokens[-1]


def _add(document: Any, pointer: str, value: Any) -> Any:
    if pointer == "":
        return value
    parent, token = _parent(document, pointer)
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, pointer, for_add=True), value)
    else:
        raise PatchFailed(f"cannot add at {pointer!r}: parent is not an object or array")
    return document


def _remove(document: Any, pointer: str) -> tuple[Any, Any]:
    if pointer == "":
        raise PatchFailed("cannot remove the whole document")
    parent, token = _parent(document, pointer)
    if isinstance(parent, dict) and token in parent:
        return document, parent.pop(token)
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, token, pointer))
    raise PatchFailed(f"path {pointer!r} does not exist")


def _move(document: Any, source: str, target: str) -> Any:
    if target.startswith(source + "/"):
        raise PatchFailed(f"cannot move {source!r} into its own child {target!r}")
    document, value = _remove(document, source)
    return _add(document, target, value)


def _test(document: Any, pointer: str, expected: Any) -> Any:
    if not json_equal(_get(document, pointer), expected):
        raise PatchFailed(f"test operation failed at {pointer!r}")
    return document


def json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON defines it: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if left != right:
        return False
    return type(left) is type(right) or _both_numbers(left, right)


def _both_numbers(left: Any, right: Any) -> bool:
    return isinstance(left, int | float) and isinstance(right, int | float)
