"""Before any load: may the harness do what the scenario needs, and may it mutate here?

``required_permissions`` lists what the recorder and the scenario's actions need: list and
watch of the six watched kinds, ``get services`` when the scenario reaches its target
through Services (``target.kubernetes.service``/``services``), plus per action kind
``get``/``patch`` deployments (rollout restart, set image), ``patch deployments/scale``
(scale), ``delete pods`` (delete pod); an action with ``on_fail: rollback`` adds what
``kubectl rollout undo`` needs (get and patch deployments, list replicasets). deploy/harness/
grants exactly these. ``check_permissions`` asks one SelfSubjectAccessReview per permission
and raises a ``PreflightError`` naming every denial ("patch deployments/scale in namespace
shop"), so one run reveals everything a Role is missing.

``check_mutations_allowed`` repeats the scenario's safety rule against the namespace
actually resolved (``--namespace`` or the context may differ from the scenario's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from kubernetes import client

from slagate.errors import KubernetesError, PreflightError
from slagate.kube.connecting import KubeConnection, api_call, server_of
from slagate.kube.resources import DEPLOYMENTS, PODS, REPLICASETS, WATCHED
from slagate.scenario import (
    ActionSpec,
    DeletePodAction,
    KubeTarget,
    RolloutAction,
    RolloutRestartAction,
    ScaleAction,
    Scenario,
    SetImageAction,
)


class Permission(NamedTuple):
    """One resource attribute set of a SelfSubjectAccessReview."""

    verb: str
    resource: str
    group: str = ""
    subresource: str = ""

    def describe(self, namespace: str) -> str:
        sub = f"/{self.subresource}" if self.subresource else ""
        return f"{self.verb} {self.resource}{sub} in namespace {namespace}"


_SERVICE_GET = Permission("get", "services")
_DEPLOYMENT_GET = Permission("get", DEPLOYMENTS.plural, DEPLOYMENTS.group)
_DEPLOYMENT_PATCH = Permission("patch", DEPLOYMENTS.plural, DEPLOYMENTS.group)
_BY_ACTION: dict[type, tuple[Permission, ...]] = {
    RolloutRestartAction: (_DEPLOYMENT_GET, _DEPLOYMENT_PATCH),
    SetImageAction: (_DEPLOYMENT_GET, _DEPLOYMENT_PATCH),
    ScaleAction: (Permission("patch", DEPLOYMENTS.plural, DEPLOYMENTS.group, "scale"),),
    DeletePodAction: (Permission("delete", PODS.plural),),
}
ROLLBACK_PERMISSIONS = (
    _DEPLOYMENT_GET,
    _DEPLOYMENT_PATCH,
    Permission("list", REPLICASETS.plural, REPLICASETS.group),
)
"""What undoing a rollout needs: read the Deployment, list its ReplicaSets, patch it."""


def required_permissions(
    actions: Sequence[ActionSpec] = (), reads_services: bool = False
) -> list[Permission]:
    """What recording (always), reading Services' addresses and the given actions need,
    without repeats, in order."""
    needed = [Permission(v, r.plural, r.group) for r in WATCHED for v in ("list", "watch")]
    if reads_services:
        needed.append(_SERVICE_GET)
    for action in actions:
        rollback = isinstance(action, RolloutAction) and action.rolls_back
        wanted = (*_BY_ACTION[type(action)], *(ROLLBACK_PERMISSIONS if rollback else ()))
        needed.extend(p for p in wanted if p not in needed)
    return needed


def denied_permissions(
    api_client: client.ApiClient, namespace: str, permissions: Sequence[Permission]
) -> list[Permission]:
    """The permissions a SelfSubjectAccessReview answers as not allowed."""
    api = client.AuthorizationV1Api(api_client)
    return [p for p in permissions if not _allowed(api, server_of(api_client), namespace, p)]


def _allowed(
    api: client.AuthorizationV1Api, server: str, namespace: str, permission: Permission
) -> bool:
    attributes = client.V1ResourceAttributes(
        namespace=namespace,
        verb=permission.verb,
        resource=permission.resource,
        group=permission.group or None,
        subresource=permission.subresource or None,
    )
    body = client.V1SelfSubjectAccessReview(
        api_version="authorization.k8s.io/v1",
        kind="SelfSubjectAccessReview",
        spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes),
    )
    with api_call(f"CREATE selfsubjectaccessreviews ({permission.describe(namespace)})", server):
        review = api.create_self_subject_access_review(body)
    return bool(review.status and review.status.allowed)


def check_permissions(
    api_client: client.ApiClient, namespace: str, permissions: Sequence[Permission]
) -> None:
    """``PreflightError`` listing every denied permission (all of them, not the first)."""
    try:
        denied = denied_permissions(api_client, namespace, permissions)
    except KubernetesError as e:
        raise PreflightError(f"cannot check Kubernetes permissions: {e}") from e
    if denied:
        lines = "\n".join(f"  {p.describe(namespace)}" for p in denied)
        raise PreflightError(
            f"missing Kubernetes permissions, no load was sent:\n{lines}\n"
            "grant them with a Role and RoleBinding (deploy/harness/ holds the harness RBAC) "
            "or use another --context"
        )


def check_mutations_allowed(
    namespace: str, target: KubeTarget | None, actions: Sequence[ActionSpec]
) -> None:
    """``PreflightError`` if actions would change a namespace the scenario does not allow."""
    if not actions:
        return
    allowed = target.allow_mutations_in if target is not None else []
    if namespace not in allowed:
        shown = ", ".join(allowed) or "none"
        raise PreflightError(
            f"the scenario's actions would change namespace {namespace!r}, which "
            f"target.kubernetes.allow_mutations_in does not allow (allowed: {shown}); "
            "add it there if this cluster may be changed, or pick another --namespace"
        )


def preflight_cluster(connection: KubeConnection, scenario: Scenario) -> None:
    """Every cluster check for ``scenario``: mutation safety first (no request), then
    the permissions."""
    kube = scenario.target.kubernetes
    check_mutations_allowed(connection.namespace, kube, scenario.actions)
    reads_services = kube is not None and bool(kube.service or kube.services)
    permissions = required_permissions(scenario.actions, reads_services)
    check_permissions(connection.api_client, connection.namespace, permissions)
