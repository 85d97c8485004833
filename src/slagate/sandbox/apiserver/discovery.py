"""Discovery documents: what kubectl and the client read before any resource request.

kubectl 1.32 first asks for aggregated discovery and falls back to these classic
documents when the answer is plain ``application/json``: ``/version``, ``/api``,
``/apis`` (APIGroupList) and one APIResourceList per group version. All built from
the served types (``ObjectStore.served_types``: built-in and custom); pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slagate.sandbox.objects.resources import (
    ALL_VERBS,
    CREATE_SUBRESOURCES,
    RESOURCE_TYPES,
    SCALE_GROUP_VERSION,
    SUBRESOURCE_VERBS,
    ResourceType,
    group_versions,
)

KUBERNETES_VERSION = ("1", "32", "v1.32.0-slagate")
AUTHORIZATION_GROUP_VERSION = ("authorization.k8s.io", "v1")


def version_info() -> dict[str, str]:
    major, minor, git_version = KUBERNETES_VERSION
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def core_versions(server_address: str) -> dict[str, Any]:
    """``/api``: the legacy core group, version v1 only."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def group_list(types: Sequence[ResourceType] = RESOURCE_TYPES) -> dict[str, Any]:
    """``/apis``: every named group with its versions (the first one preferred)."""
    pairs = [pair for pair in group_versions(types) if pair[0]] + [AUTHORIZATION_GROUP_VERSION]
    versions: dict[str, list[str]] = {}
    for group, version in pairs:
        versions.setdefault(group, []).append(version)
    groups = [_group(group, listed) for group, listed in versions.items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _group(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def is_served_group_version(
    group: str, version: str, types: Sequence[ResourceType] = RESOURCE_TYPES
) -> bool:
    pairs = [*group_versions(types), AUTHORIZATION_GROUP_VERSION]
    return (group, version) in pairs


def resource_list(
    group: str, version: str, types: Sequence[ResourceType] = RESOURCE_TYPES
) -> dict[str, Any]:
    """The APIResourceList of one group version, subresources included."""
    entries: list[dict[str, Any]] = []
    for resource in types:
        if (resource.group, resource.version) == (group, version):
            entries.append(_resource_entry(resource))
            entries.extend(_subresource_entries(resource))
    if (group, version) == AUTHORIZATION_GROUP_VERSION:
        entries.append(_access_review_entry())
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": entries,
    }


def _resource_entry(resource: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": list(ALL_VERBS),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    return entry


def _subresource_entries(resource: ResourceType) -> list[dict[str, Any]]:
    entries = []
    for sub in sorted(resource.subresources):
        entry: dict[str, Any] = {
            "name": f"{resource.plural}/{sub}",
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": list(SUBRESOURCE_VERBS),
        }
        if sub == "scale":
            entry.update(kind="Scale", group=SCALE_GROUP_VERSION[0], version=SCALE_GROUP_VERSION[1])
        if sub in CREATE_SUBRESOURCES:
            group, version, kind = CREATE_SUBRESOURCES[sub]
            entry.update(kind=kind, group=group, version=version, verbs=["create"])
        entries.append(entry)
    return entries


def _access_review_entry() -> dict[str, Any]:
    return {
        "name": "selfsubjectaccessreviews",
        "singularName": "selfsubjectaccessreview",
        "namespaced": False,
        "kind": "SelfSubjectAccessReview",
        "verbs": ["create"],
    }
