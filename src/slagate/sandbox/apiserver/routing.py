"""URL paths of the Kubernetes REST API, parsed into routes.

``/apis/apps/v1/namespaces/default/deployments/web/scale`` becomes
``ResourceRoute(DEPLOYMENTS, "default", "web", "scale")``; discovery paths become
``DiscoveryRoute``; ``/_sandbox/<action>`` are the sandbox's own test controls.
Unknown paths are ``NotFound``, as upstream answers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from slagate.errors import NotFound
from slagate.sandbox.apiserver.discovery import AUTHORIZATION_GROUP_VERSION, is_served_group_version
from slagate.sandbox.objects.resources import RESOURCE_TYPES, ResourceType, find_resource

CONTROL_PREFIX = "_sandbox"


@dataclass(frozen=True)
class DiscoveryRoute:
    """``document``: version, core, groups, group or resources."""

    document: str
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class OpenApiRoute:
    """``/openapi/v3`` (``path_key`` empty) or one group version's document."""

    path_key: str = ""


@dataclass(frozen=True)
class ResourceRoute:
    resource: ResourceType
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""

    @property
    def label(self) -> str:
        """The name request counters use: ``deployments``, ``deployments/scale``."""
        sub = f"/{self.subresource}" if self.subresource else ""
        return f"{self.resource.plural}{sub}"


@dataclass(frozen=True)
class AccessReviewRoute:
    pass


@dataclass(frozen=True)
class ControlRoute:
    action: str


Route = DiscoveryRoute | OpenApiRoute | ResourceRoute | AccessReviewRoute | ControlRoute


def not_found() -> NotFound:
    return NotFound("the server could not find the requested resource")


def parse_path(path: str, types: Sequence[ResourceType] = RESOURCE_TYPES) -> Route:
    """``types``: what is served (the built-in types and those of the stored CRDs)."""
    parts = [unquote(p) for p in path.split("?")[0].split("/") if p]
    if parts == ["version"]:
        return DiscoveryRoute("version")
    if len(parts) == 2 and parts[0] == CONTROL_PREFIX:
        return ControlRoute(parts[1])
    if parts[:2] == ["openapi", "v3"]:
        return OpenApiRoute("/".join(parts[2:]))
    if parts[:1] == ["api"]:
        return _group_version_route("", parts[1:], types)
    if parts[:1] == ["apis"]:
        return _named_group_route(parts[1:], types)
    raise not_found()


def _named_group_route(parts: list[str], types: Sequence[ResourceType]) -> Route:
    if not parts:
        return DiscoveryRoute("groups")
    if len(parts) == 1:
        if (
            not any(r.group == parts[0] for r in types)
            and parts[0] != AUTHORIZATION_GROUP_VERSION[0]
        ):
            raise not_found()
        return DiscoveryRoute("group", parts[0])
    return _group_version_route(parts[0], parts[1:], types)


def _group_version_route(group: str, parts: list[str], types: Sequence[ResourceType]) -> Route:
    if not parts:
        return DiscoveryRoute("core")
    version, rest = parts[0], parts[1:]
    if not is_served_group_version(group, version, types):
        raise not_found()
    if not rest:
        return DiscoveryRoute("resources", group, version)
    if (group, version) == AUTHORIZATION_GROUP_VERSION:
        if rest == ["selfsubjectaccessreviews"]:
            return AccessReviewRoute()
        raise not_found()
    return _resource_route(group, version, rest, types)


def _resource_route(
    group: str, version: str, rest: list[str], types: Sequence[ResourceType]
) -> ResourceRoute:
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        nested = find_resource(group, version, rest[2], types)
        if nested is not None and nested.namespaced:
            namespace, rest = rest[1], rest[2:]
    resource = find_resource(group, version, rest[0], types)
    tail = rest[1:]
    if resource is None or len(tail) > 2:
        raise not_found()
    name = tail[0] if tail else None
    subresource = tail[1] if len(tail) == 2 else ""
    if subresource and subresource not in resource.subresources:
        raise not_found()
    if resource.namespaced and name is not None and namespace is None:
        raise not_found()
    return ResourceRoute(resource, namespace, name, subresource)
