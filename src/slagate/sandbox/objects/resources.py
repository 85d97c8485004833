"""The resource types the sandbox serves, described once for routing, discovery and storage.

A ``ResourceType`` is what the real API server calls a GroupVersionResource plus its
RESTMapping: the URL plural, the Kind, whether it lives in a namespace, which
subresources it has. Everything else (discovery documents, routing, the store's
status/spec split) is derived from this table, so adding a type is one entry here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    """One served resource, e.g. ``apps/v1 deployments``.

    ``subresources`` holds the served subresources (``"status"``, ``"scale"``); with a
    ``status`` subresource, writes to the main resource ignore ``status`` and writes to
    ``/status`` ignore everything else. ``echo_on_delete`` mirrors the upstream registry
    flag ``ReturnDeletedObject`` (pods and services answer a delete with the object, the
    rest with a Status).
    """

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    categories: tuple[str, ...] = ()
    echo_on_delete: bool = False
    custom: bool = False
    """Served for a CustomResourceDefinition: stored as sent, no built-in defaults or
    validation (those are keyed by kind, which a custom group may reuse)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified_plural(self) -> str:
        """``deployments.apps`` as upstream error messages spell it; core types bare."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def stored_as(self) -> ResourceType:
        """The key the store keeps its objects under: a custom kind's served versions
        share one storage (no conversion: an object read at another version only shows
        that ``apiVersion``), a built-in type is its own."""
        if not self.custom:
            return self
        return ResourceType(self.group, "", self.plural, self.kind, self.namespaced, custom=True)

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def __str__(self) -> str:
        return f"{self.api_version} {self.plural}"


_STATUS = frozenset({"status"})
_STATUS_SCALE = frozenset({"status", "scale"})
_TOKEN = frozenset({"token"})

NAMESPACES = ResourceType(
    "", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",), subresources=_STATUS
)
PODS = ResourceType(
    "",
    "v1",
    "pods",
    "Pod",
    short_names=("po",),
    subresources=frozenset({"status", "eviction"}),
    categories=("all",),
    echo_on_delete=True,
)
SERVICES = ResourceType(
    "",
    "v1",
    "services",
    "Service",
    short_names=("svc",),
    subresources=_STATUS,
    categories=("all",),
    echo_on_delete=True,
)
NODES = ResourceType(
    "", "v1", "nodes", "Node", namespaced=False, short_names=("no",), subresources=_STATUS
)
ENDPOINTS = ResourceType("", "v1", "endpoints", "Endpoints", short_names=("ep",))
EVENTS = ResourceType("", "v1", "events", "Event", short_names=("ev",))
DEPLOYMENTS = ResourceType(
    "apps",
    "v1",
    "deployments",
    "Deployment",
    short_names=("deploy",),
    subresources=_STATUS_SCALE,
    categories=("all",),
)
REPLICASETS = ResourceType(
    "apps",
    "v1",
    "replicasets",
    "ReplicaSet",
    short_names=("rs",),
    subresources=_STATUS_SCALE,
    categories=("all",),
)
HORIZONTAL_POD_AUTOSCALERS = ResourceType(
    "autoscaling",
    "v2",
    "horizontalpodautoscalers",
    "HorizontalPodAutoscaler",
    short_names=("hpa",),
    subresources=_STATUS,
    categories=("all",),
)
ENDPOINT_SLICES = ResourceType("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice")
CONFIG_MAPS = ResourceType("", "v1", "configmaps", "ConfigMap", short_names=("cm",))
SECRETS = ResourceType("", "v1", "secrets", "Secret")
SERVICE_ACCOUNTS = ResourceType(
    "", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",), subresources=_TOKEN
)
_RBAC = "rbac.authorization.k8s.io"
ROLES = ResourceType(_RBAC, "v1", "roles", "Role")
CLUSTER_ROLES = ResourceType(_RBAC, "v1", "clusterroles", "ClusterRole", namespaced=False)
ROLE_BINDINGS = ResourceType(_RBAC, "v1", "rolebindings", "RoleBinding")
CLUSTER_ROLE_BINDINGS = ResourceType(
    _RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False
)
POD_DISRUPTION_BUDGETS = ResourceType(
    "policy",
    "v1",
    "poddisruptionbudgets",
    "PodDisruptionBudget",
    short_names=("pdb",),
    subresources=_STATUS,
)
DAEMON_SETS = ResourceType(
    "apps",
    "v1",
    "daemonsets",
    "DaemonSet",
    short_names=("ds",),
    subresources=_STATUS,
    categories=("all",),
)
CUSTOM_RESOURCE_DEFINITIONS = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    namespaced=False,
    short_names=("crd", "crds"),
    subresources=_STATUS,
)
JOBS = ResourceType("batch", "v1", "jobs", "Job", subresources=_STATUS, categories=("all",))
PERSISTENT_VOLUME_CLAIMS = ResourceType(
    "",
    "v1",
    "persistentvolumeclaims",
    "PersistentVolumeClaim",
    short_names=("pvc",),
    subresources=_STATUS,
)
INGRESSES = ResourceType(
    "networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",), subresources=_STATUS
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    NAMESPACES,
    PODS,
    SERVICES,
    NODES,
    ENDPOINTS,
    EVENTS,
    DEPLOYMENTS,
    REPLICASETS,
    HORIZONTAL_POD_AUTOSCALERS,
    ENDPOINT_SLICES,
    CONFIG_MAPS,
    SECRETS,
    SERVICE_ACCOUNTS,
    ROLES,
    CLUSTER_ROLES,
    ROLE_BINDINGS,
    CLUSTER_ROLE_BINDINGS,
    POD_DISRUPTION_BUDGETS,
    DAEMON_SETS,
    JOBS,
    PERSISTENT_VOLUME_CLAIMS,
    INGRESSES,
    CUSTOM_RESOURCE_DEFINITIONS,
)
"""Every built-in type the sandbox serves, in discovery order; the store adds one per
version of each CustomResourceDefinition (``ObjectStore.served_types``)."""

SCALE_GROUP_VERSION = ("autoscaling", "v1")
"""The ``Scale`` kind that ``deployments/scale`` and ``replicasets/scale`` speak."""

CREATE_SUBRESOURCES: dict[str, tuple[str, str, str]] = {
    "eviction": ("policy", "v1", "Eviction"),
    "token": ("authentication.k8s.io", "v1", "TokenRequest"),
}
"""Subresources that only take a POST (create), with the (group, version, kind) they read:
``pods/eviction`` (what ``kubectl drain`` posts) and ``serviceaccounts/token``."""


def find_resource(
    group: str, version: str, plural: str, types: Sequence[ResourceType] = RESOURCE_TYPES
) -> ResourceType | None:
    for resource in types:
        if (resource.group, resource.version, resource.plural) == (group, version, plural):
            return resource
    return None


def find_kind(
    api_version: str, kind: str, types: Sequence[ResourceType] = RESOURCE_TYPES
) -> ResourceType | None:
    """The type a manifest's ``apiVersion`` and ``kind`` name, if served."""
    return next((r for r in types if (r.api_version, r.kind) == (api_version, kind)), None)


def group_versions(types: Sequence[ResourceType] = RESOURCE_TYPES) -> list[tuple[str, str]]:
    """Every served (group, version) pair, core first, in a stable order."""
    seen: list[tuple[str, str]] = []
    for resource in types:
        pair = (resource.group, resource.version)
        if pair not in seen:
            seen.append(pair)
    return seen
