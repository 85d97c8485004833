"""RBAC preflight through SelfSubjectAccessReviews, and the mutation safety check."""

from __future__ import annotations

import pytest

from slagate.errors import PreflightError
from slagate.kube.connecting import KubeConnection
from slagate.kube.preflight import (
    Permission,
    check_mutations_allowed,
    check_permissions,
    preflight_cluster,
    required_permissions,
)
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.access import AccessRule
from slagate.scenario import (
    DeletePodAction,
    KubeTarget,
    RolloutRestartAction,
    ScaleAction,
    parse_scenario,
)
from tests.kube.objects import NS

RESTART = RolloutRestartAction(kind="rollout_restart", deployment="order", at=10)
SCALE = ScaleAction(kind="scale", deployment="order", replicas=3, at=20)
DELETE = DeletePodAction(kind="delete_pod", selector="app=order", at=30)


def test_recording_needs_list_and_watch_of_six_kinds() -> None:
    assert [(p.verb, p.resource, p.group) for p in required_permissions()] == [
        ("list", "horizontalpodautoscalers", "autoscaling"),
        ("watch", "horizontalpodautoscalers", "autoscaling"),
        ("list", "deployments", "apps"),
        ("watch", "deployments", "apps"),
        ("list", "replicasets", "apps"),
        ("watch", "replicasets", "apps"),
        ("list", "pods", ""),
        ("watch", "pods", ""),
        ("list", "endpointslices", "discovery.k8s.io"),
        ("watch", "endpointslices", "discovery.k8s.io"),
        ("list", "events", ""),
        ("watch", "events", ""),
    ]


def test_actions_add_what_they_change_once() -> None:
    extra = required_permissions([RESTART, SCALE, DELETE, RESTART])[12:]
    assert extra == [
        Permission("get", "deployments", "apps"),
        Permission("patch", "deployments", "apps"),
        Permission("patch", "deployments", "apps", "scale"),
        Permission("delete", "pods"),
    ]


def test_all_allowed_passes_with_one_review_per_permission(
    connection: KubeConnection, server: ApiServer
) -> None:
    permissions = required_permissions([RESTART, SCALE])
    check_permissions(connection.api_client, NS, permissions)
    assert server.request_counts()[("selfsubjectaccessreviews", "create")] == len(permissions)


def test_every_denial_is_listed(connection: KubeConnection, server: ApiServer) -> None:
    server.access.deny(AccessRule(verb="watch", resource="pods", namespace=NS))
    server.access.deny(AccessRule(verb="patch", resource="deployments", subresource="scale"))
    server.access.deny(AccessRule(verb="delete", resource="pods", namespace="other"))

    with pytest.raises(PreflightError) as raised:
        check_permissions(connection.api_client, NS, required_permissions([SCALE, DELETE]))

    assert str(raised.value) == (
        "missing Kubernetes permissions, no load was sent:\n"
        "  watch pods in namespace shop\n"
        "  patch deployments/scale in namespace shop\n"
        "grant them with a Role and RoleBinding (deploy/ holds the harness RBAC) or use "
        "another --context"
    )


@pytest.mark.parametrize(
    ("namespace", "allowed", "actions", "refused"),
    [
        pytest.param("shop", ["shop"], [RESTART], False, id="allowed"),
        pytest.param("prod", ["shop"], [RESTART], True, id="other-namespace"),
        pytest.param("shop", [], [DELETE], True, id="none-allowed"),
        pytest.param("prod", [], [], False, id="no-actions"),
    ],
)
def test_mutations_only_in_allowed_namespaces(
    namespace: str, allowed: list[str], actions: list[RolloutRestartAction], refused: bool
) -> None:
    target = KubeTarget(namespace="shop", allow_mutations_in=allowed)
    if not refused:
        check_mutations_allowed(namespace, target, actions)
        return
    with pytest.raises(PreflightError, match=f"would change namespace '{namespace}'"):
        check_mutations_allowed(namespace, target, actions)


SCENARIO = """
name: restart
target: {kubernetes: {namespace: shop, allow_mutations_in: [shop]}}
load: {shape: constant, users: 1, duration: 60}
actions: [{kind: rollout_restart, deployment: order, at: 10}]
"""


def test_preflight_uses_the_resolved_namespace(
    connection: KubeConnection, server: ApiServer
) -> None:
    scenario = parse_scenario(SCENARIO)
    preflight_cluster(connection, scenario)
    other = KubeConnection(connection.api_client, "prod", connection.server, connection.source)
    with pytest.raises(PreflightError, match="'prod'"):
        preflight_cluster(other, scenario)
    server.access.deny(AccessRule(verb="patch", resource="deployments"))
    with pytest.raises(PreflightError, match="  patch deployments in namespace shop\n"):
        preflight_cluster(connection, scenario)
