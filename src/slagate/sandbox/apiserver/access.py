"""SelfSubjectAccessReview: may the requesting identity do this?

The harness preflight asks "may I patch deployments in shop?" before any load. The answer
is RBAC's (``authorizing``) for the identity that sent the review: the admin token may do
anything, a ServiceAccount what its RoleBindings and ClusterRoleBindings grant. On top,
tests may install deny rules (``AccessPolicy``) to see the preflight name what is
missing; those rules only answer reviews, requests themselves are not refused by them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from slagate.errors import FieldCause, Invalid
from slagate.sandbox.apiserver.authenticating import UserInfo
from slagate.sandbox.apiserver.authorizing import Attributes, Policy, authorize
from slagate.sandbox.objects.bodies import RawObject


@dataclass(frozen=True)
class AccessRule:
    """Matches resource attributes of a review; ``"*"`` matches anything."""

    verb: str = "*"
    resource: str = "*"
    group: str = "*"
    namespace: str = "*"
    subresource: str = "*"
    name: str = "*"

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        for rule_field in fields(self):
            wanted = getattr(self, rule_field.name)
            if wanted != "*" and str(attributes.get(rule_field.name, "")) != wanted:
                return False
        return True


class AccessPolicy:
    """A thread-safe deny list; empty means every review answers allowed."""

    def __init__(self, denied: Iterable[AccessRule] = ()) -> None:
        self._lock = threading.Lock()
        self._denied = list(denied)

    def deny(self, rule: AccessRule) -> None:
        with self._lock:
            self._denied.append(rule)

    def allow_all(self) -> None:
        with self._lock:
            self._denied.clear()

    def decide(self, attributes: Mapping[str, Any]) -> tuple[bool, str]:
        with self._lock:
            rule = next((r for r in self._denied if r.matches(attributes)), None)
        if rule is None:
            return True, "allowed by the slagate sandbox"
        return False, f"denied by the slagate sandbox deny rule {rule}"


def review(policy: AccessPolicy, body: Any, user: UserInfo, rbac: Policy) -> RawObject:
    """Answer a SelfSubjectAccessReview body sent by ``user`` with its ``status``."""
    spec = body.get("spec") if isinstance(body, dict) else None
    attributes = spec.get("resourceAttributes") if isinstance(spec, dict) else None
    non_resource = spec.get("nonResourceAttributes") if isinstance(spec, dict) else None
    if not isinstance(attributes, dict) and not isinstance(non_resource, dict):
        cause = FieldCause(
            "spec.resourceAttributes",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )
        raise Invalid("SelfSubjectAccessReview", "", [cause], "authorization.k8s.io")
    allowed, reason = policy.decide(attributes) if isinstance(attributes, dict) else (True, "")
    if allowed and not user.is_admin:
        decision = authorize(user, _attributes(attributes, non_resource), rbac)
        allowed, reason = decision.allowed, decision.reason
    answer: RawObject = copy.deepcopy(body)
    answer.update(kind="SelfSubjectAccessReview", apiVersion="authorization.k8s.io/v1")
    answer.setdefault("metadata", {})
    answer["status"] = {"allowed": allowed, "reason": reason}
    if not allowed:
        answer["status"]["denied"] = True
    return answer


def _attributes(resource: Any, non_resource: Any) -> Attributes:
    if isinstance(resource, dict):
        return Attributes(
            verb=str(resource.get("verb") or ""),
            resource=str(resource.get("resource") or ""),
            group=str(resource.get("group") or ""),
            subresource=str(resource.get("subresource") or ""),
            name=str(resource.get("name") or ""),
            namespace=str(resource.get("namespace") or ""),
        )
    return Attributes(verb=str(non_resource.get("verb") or ""), path=str(non_resource.get("path")))
