"""RBAC: may this user do this verb on this resource? Upstream's rule semantics.

What ``plugin/pkg/auth/authorizer/rbac`` decides, for the kinds stored in the sandbox
(Role, ClusterRole, RoleBinding, ClusterRoleBinding; aggregation is not modelled):
- members of ``system:masters`` (the sandbox's admin token) may do anything;
- a ClusterRoleBinding grants its ClusterRole's rules everywhere; a RoleBinding grants
  the rules of its Role (same namespace) or ClusterRole inside its own namespace only;
- a subject is a ``User`` (by name), a ``Group`` (by name) or a ``ServiceAccount``
  (namespace, defaulting to the RoleBinding's, and name);
- a rule matches when its ``verbs``, ``apiGroups`` and ``resources`` each contain the
  request's value or ``*``; a subresource request (``deployments/scale``) needs that
  combined name, ``*`` or ``*/scale``; non-empty ``resourceNames`` match only requests
  naming one of them (so never a list, watch or create); ``nonResourceURLs`` match a
  path exactly or by a trailing ``*``.
A missing Role or ClusterRole grants nothing, as upstream.

``authorize`` and the matchers are pure; ``read_policy`` takes the RBAC objects out of
the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slagate.errors import Forbidden, StatusDetails
from slagate.sandbox.apiserver.authenticating import UserInfo
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.bodies import RawObject, mapping_at, name_of, namespace_of
from slagate.sandbox.objects.resources import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    ROLE_BINDINGS,
    ROLES,
)
from slagate.sandbox.objects.selection import Selection


@dataclass(frozen=True)
class Attributes:
    """What a request (or a SelfSubjectAccessReview) asks to do. ``path`` is set for a
    non-resource request, and then the resource fields are empty."""

    verb: str
    resource: str = ""
    group: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    path: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class Policy:
    """The RBAC objects of the cluster at one moment."""

    roles: dict[tuple[str, str], RawObject]
    cluster_roles: dict[str, RawObject]
    role_bindings: Sequence[RawObject]
    cluster_role_bindings: Sequence[RawObject]


def read_policy(store: ObjectStore) -> Policy:
    return Policy(
        {(namespace_of(r), name_of(r)): r for r in store.list(Selection(ROLES)).items},
        {name_of(r): r for r in store.list(Selection(CLUSTER_ROLES)).items},
        store.list(Selection(ROLE_BINDINGS)).items,
        store.list(Selection(CLUSTER_ROLE_BINDINGS)).items,
    )


def authorize(user: UserInfo, attributes: Attributes, policy: Policy) -> Decision:
    if user.is_admin:
        return Decision(True, "")
    for binding in policy.cluster_role_bindings:
        role = policy.cluster_roles.get(str(mapping_at(binding, "roleRef").get("name")))
        if _grants(binding, role, user, attributes, ""):
            return Decision(True, _allowed_by("ClusterRoleBinding", binding, user))
    if not attributes.namespace:
        return Decision(False)
    for binding in policy.role_bindings:
        if namespace_of(binding) != attributes.namespace:
            continue
        if _grants(binding, _role_of(binding, policy), user, attributes, namespace_of(binding)):
            return Decision(True, _allowed_by("RoleBinding", binding, user))
    return Decision(False)


def _role_of(binding: RawObject, policy: Policy) -> RawObject | None:
    ref = mapping_at(binding, "roleRef")
    name = str(ref.get("name", ""))
    if ref.get("kind") == "ClusterRole":
        return policy.cluster_roles.get(name)
    return policy.roles.get((namespace_of(binding), name))


def _grants(
    binding: RawObject,
    role: RawObject | None,
    user: UserInfo,
    attributes: Attributes,
    binding_namespace: str,
) -> bool:
    if role is None or not any(
        subject_matches(s, user, binding_namespace) for s in _mappings(binding.get("subjects"))
    ):
        return False
    return any(rule_allows(rule, attributes) for rule in _mappings(role.get("rules")))


def subject_matches(subject: dict[str, Any], user: UserInfo, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(name == user.name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{namespace}:{name}"
    return False


def rule_allows(rule: dict[str, Any], attributes: Attributes) -> bool:
    """Upstream's ``RuleAllows``: one PolicyRule against one request."""
    if not _has(rule.get("verbs"), attributes.verb):
        return False
    if attributes.path:
        return _url_matches(rule.get("nonResourceURLs"), attributes.path)
    return (
        _has(rule.get("apiGroups"), attributes.group)
        and _resource_matches(rule.get("resources"), attributes)
        and _name_matches(rule.get("resourceNames"), attributes.name)
    )


def _has(values: Any, wanted: str) -> bool:
    return isinstance(values, list) and ("*" in values or wanted in values)


def _resource_matches(resources: Any, attributes: Attributes) -> bool:
    if not isinstance(resources, list):
        return False
    combined, sub = attributes.combined_resource, attributes.subresource
    return any(r in ("*", combined) or (sub and r == f"*/{sub}") for r in resources)


def _name_matches(names: Any, name: str) -> bool:
    return not names or (isinstance(names, list) and name in names)


def _url_matches(urls: Any, path: str) -> bool:
    if not isinstance(urls, list):
        return False
    return any(u == "*" or u == path or (u.endswith("*") and path.startswith(u[:-1])) for u in urls)


def _allowed_by(kind: str, binding: RawObject, user: UserInfo) -> str:
    ref = mapping_at(binding, "roleRef")
    where = f"{namespace_of(binding)}/" if kind == "RoleBinding" else ""
    return (
        f'RBAC: allowed by {kind} "{where}{name_of(binding)}" of {ref.get("kind")} '
        f'"{ref.get("name")}" to {user.name}'
    )


def forbidden(user: UserInfo, attributes: Attributes, qualified_plural: str) -> Forbidden:
    """The 403 a refused request gets, worded as kube-apiserver words it."""
    where = (
        f'in the namespace "{attributes.namespace}"'
        if attributes.namespace
        else "at the cluster scope"
    )
    cannot = (
        f'User "{user.name}" cannot {attributes.verb} resource "{attributes.combined_resource}" '
        f'in API group "{attributes.group}" {where}'
    )
    subject = f'{qualified_plural} "{attributes.name}"' if attributes.name else qualified_plural
    details: StatusDetails = {
        "name": attributes.name,
        "group": attributes.group,
        "kind": attributes.resource,
    }
    return Forbidden(f"{subject} is forbidden: {cannot}", details)


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
