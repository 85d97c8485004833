"""Just enough OpenAPI v3 for ``kubectl create/apply -f`` to run without ``--validate=false``.

kubectl validates manifests itself unless the server's OpenAPI v3 document shows a
``fieldValidation`` query parameter on the type's PATCH operation; then it leaves
validation to the server (which the sandbox does, see ``validation``). So each group
version document lists one PATCH operation per type, tagged with its
``x-kubernetes-group-version-kind`` and that parameter, and no schemas. The PATCH
operation declares no request body on purpose: kubectl apply then computes strategic
merge patches from its built-in types instead of looking for schemas here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slagate.sandbox.objects.resources import RESOURCE_TYPES, ResourceType, group_versions


def _path_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_root(types: Sequence[ResourceType] = RESOURCE_TYPES) -> dict[str, Any]:
    """``/openapi/v3``: where each group version's document lives."""
    paths = {
        _path_key(g, v): {"serverRelativeURL": f"/openapi/v3/{_path_key(g, v)}"}
        for g, v in group_versions(types)
    }
    return {"paths": paths}


def openapi_document(
    path_key: str, types: Sequence[ResourceType] = RESOURCE_TYPES
) -> dict[str, Any] | None:
    """``/openapi/v3/<path_key>`` or None for an unknown group version."""
    for group, version in group_versions(types):
        if _path_key(group, version) == path_key:
            paths = {
                _item_path(r): {"patch": _patch_operation(r)}
                for r in types
                if (r.group, r.version) == (group, version)
            }
            return {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes (slagate sandbox)", "version": "v1.32.0"},
                "paths": paths,
                "components": {"schemas": {}},
            }
    return None


def _item_path(resource: ResourceType) -> str:
    scope = "/namespaces/{namespace}" if resource.namespaced else ""
    return f"/{_path_key(resource.group, resource.version)}{scope}/{resource.plural}/{{name}}"


def _patch_operation(resource: ResourceType) -> dict[str, Any]:
    gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
    return {
        "operationId": f"patch{resource.kind}",
        "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": gvk,
    }
