"""PATCH: pick the patch flavour from the Content-Type and apply it to a stored object.

``application/strategic-merge-patch+json`` (kubectl's and the Python client's default
for objects), ``application/merge-patch+json`` (RFC 7386) and
``application/json-patch+json`` (RFC 6902, applied by the ``jsonpatch`` package). Server-side apply
(``application/apply-patch+yaml``) is refused with 415 and a message saying what to use
instead: the sandbox keeps no managed fields.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from slagate.errors import BadRequest, PatchFailed, UnsupportedMediaType
from slagate.sandbox.apiserver.strategic import apply_strategic_merge_patch
from slagate.sandbox.objects.bodies import RawObject

STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
_SUPPORTED = (JSON_PATCH, MERGE, STRATEGIC_MERGE)


def apply_patch(original: RawObject, body: bytes, content_type: str) -> RawObject:
    """Return ``original`` patched by ``body``; ``original`` itself is left untouched.

    Raises ``BadRequest`` for malformed JSON, ``PatchFailed`` when a well-formed patch
    cannot apply, ``UnsupportedMediaType`` for any other content type.
    """
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in _SUPPORTED:
        raise UnsupportedMediaType(_unsupported_message(media_type))
    patch = parse_json(body)
    if media_type == JSON_PATCH:
        result = apply_json_patch(original, patch)
    elif media_type == MERGE:
        result = apply_merge_patch(original, patch)
    else:
        result = apply_strategic_merge_patch(original, patch)
    if not isinstance(result, dict):
        raise BadRequest("the patched object is not a JSON object")
    return result


def _unsupported_message(media_type: str) -> str:
    accepted = ", ".join(_SUPPORTED)
    if media_type.startswith("application/apply-patch"):
        return (
            f"server-side apply ({media_type}) is not supported by the slagate sandbox; "
            f"use client-side apply (kubectl apply --server-side=false) or one of: {accepted}"
        )
    return (
        f"the body of the request was in an unknown format ({media_type or 'none'}) - "
        f"accepted media types include: {accepted}"
    )


def parse_json(body: bytes) -> Any:
    """Decode a request body; ``BadRequest`` (400) with the parser's complaint if invalid."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"the request body is not valid JSON: {error}") from error


def apply_json_patch(document: Any, operations: Any) -> Any:
    """RFC 6902, all or nothing, on a copy; errors split as upstream's API server does.

    A body that does not decode into a list of operation objects is ``BadRequest`` (400);
    a decoded patch that cannot apply (unknown op, missing member, bad path, failed
    ``test``) is ``PatchFailed`` (422).
    """
    import jsonpatch  # slagate[sandbox]: here, so that importing the sandbox needs no extra

    _check_operations(operations)
    try:
        return jsonpatch.apply_patch(document, operations)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
        raise PatchFailed(f"the JSON patch cannot apply: {error}") from error


def _check_operations(operations: Any) -> None:
    if not isinstance(operations, list):
        raise BadRequest("a JSON patch must be a JSON array of operations")
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise BadRequest(f"JSON patch operation {index} is not an object")


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result
