"""RBAC rule semantics (pure) and ServiceAccount identities against a live sandbox API
server: the admin token is cluster-admin, a ServiceAccount gets what its bindings grant,
requests it may not make answer 403 in upstream's words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.authenticating import ADMIN, service_account_info
from slagate.sandbox.apiserver.authorizing import Attributes, Policy, authorize, rule_allows
from slagate.sandbox.objects.resources import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    DEPLOYMENTS,
    NAMESPACES,
    ROLE_BINDINGS,
    ROLES,
    SERVICE_ACCOUNTS,
)
from tests.sandbox.manifests import deployment

PATCH_SCALE = Attributes("patch", "deployments", "apps", "scale", "web", "shop")


@pytest.mark.parametrize(
    ("rule", "attributes", "allowed"),
    [
        pytest.param(
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "patch"]},
            Attributes("patch", "deployments", "apps", namespace="shop"),
            True,
            id="exact",
        ),
        pytest.param(
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
            Attributes("patch", "deployments", "apps", namespace="shop"),
            False,
            id="verb-missing",
        ),
        pytest.param(
            {"apiGroups": [""], "resources": ["deployments"], "verbs": ["*"]},
            Attributes("patch", "deployments", "apps"),
            False,
            id="other-group",
        ),
        pytest.param(
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]},
            PATCH_SCALE,
            False,
            id="resource-does-not-cover-subresource",
        ),
        pytest.param(
            {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]},
            PATCH_SCALE,
            True,
            id="subresource",
        ),
        pytest.param(
            {"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["patch"]},
            PATCH_SCALE,
            True,
            id="star-slash-subresource",
        ),
        pytest.param(
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            PATCH_SCALE,
            True,
            id="all-wildcards",
        ),
        pytest.param(
            {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
            Attributes("create", "pods", "", "eviction", "web-1", "shop"),
            True,
            id="eviction",
        ),
        pytest.param(
            {"apiGroups": ["apps"], "resources": ["*"], "resourceNames": ["web"], "verbs": ["*"]},
            PATCH_SCALE,
            True,
            id="resource-name",
        ),
        pytest.param(
            {"apiGroups": ["apps"], "resources": ["*"], "resourceNames": ["api"], "verbs": ["*"]},
            PATCH_SCALE,
            False,
            id="other-resource-name",
        ),
        pytest.param(
            {"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"], "verbs": ["list"]},
            Attributes("list", "pods", namespace="shop"),
            False,
            id="resource-names-never-match-a-list",
        ),
        pytest.param(
            {"nonResourceURLs": ["/metrics*"], "verbs": ["get"]},
            Attributes("get", path="/metrics/cadvisor"),
            True,
            id="non-resource-prefix",
        ),
    ],
)
def test_rule_matching(rule: dict[str, Any], attributes: Attributes, allowed: bool) -> None:
    assert rule_allows(rule, attributes) is allowed


def _binding(kind: str, namespace: str, role: tuple[str, str], *subjects: dict[str, str]) -> Any:
    return {
        "kind": kind,
        "metadata": {"name": f"{role[1]}-binding", "namespace": namespace},
        "roleRef": {"kind": role[0], "name": role[1]},
        "subjects": list(subjects),
    }


READ_PODS = {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}
POLICY = Policy(
    roles={("shop", "reader"): READ_PODS},
    cluster_roles={"pods-reader": READ_PODS},
    role_bindings=[
        _binding(
            "RoleBinding", "shop", ("Role", "reader"), {"kind": "ServiceAccount", "name": "a"}
        ),
        _binding(
            "RoleBinding", "dev", ("ClusterRole", "pods-reader"), {"kind": "Group", "name": "devs"}
        ),
        _binding("RoleBinding", "shop", ("Role", "missing"), {"kind": "User", "name": "eve"}),
    ],
    cluster_role_bindings=[
        _binding(
            "ClusterRoleBinding",
            "",
            ("ClusterRole", "pods-reader"),
            {"kind": "ServiceAccount", "name": "b", "namespace": "ops"},
        )
    ],
)


@pytest.mark.parametrize(
    ("user", "namespace", "allowed"),
    [
        pytest.param(service_account_info("shop", "a"), "shop", True, id="rolebinding"),
        pytest.param(service_account_info("shop", "a"), "dev", False, id="rolebinding-scope"),
        pytest.param(service_account_info("other", "a"), "shop", False, id="sa-namespace"),
        pytest.param(service_account_info("ops", "b"), "dev", True, id="clusterrolebinding"),
        pytest.param(service_account_info("ops", "b"), "", True, id="cluster-scope"),
        pytest.param(service_account_info("ops", "c"), "shop", False, id="unbound"),
        pytest.param(ADMIN, "anywhere", True, id="admin"),
    ],
)
def test_bindings_grant_by_subject_and_scope(user: Any, namespace: str, allowed: bool) -> None:
    attributes = Attributes("list", "pods", namespace=namespace)
    assert authorize(user, attributes, POLICY).allowed is allowed


def test_group_subject_and_a_missing_role() -> None:
    devs = type(ADMIN)("jo", ("devs",))
    eve = type(ADMIN)("eve", ())
    assert authorize(devs, Attributes("list", "pods", namespace="dev"), POLICY).allowed
    assert not authorize(eve, Attributes("list", "pods", namespace="shop"), POLICY).allowed


# -- a ServiceAccount against the live server --------------------------------------------


def _grant(api_server: ApiServer, verbs: list[str]) -> None:
    store = api_server.store
    store.create(NAMESPACES, {"metadata": {"name": "shop"}})
    store.create(SERVICE_ACCOUNTS, {"metadata": {"name": "harness"}}, "shop")
    rules = [
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": verbs},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
    ]
    store.create(ROLES, {"metadata": {"name": "harness"}, "rules": rules}, "shop")
    binding = _binding(
        "RoleBinding", "shop", ("Role", "harness"), {"kind": "ServiceAccount", "name": "harness"}
    )
    store.create(ROLE_BINDINGS, binding, "shop")


def _client_as_service_account(api_server: ApiServer, path: Path) -> client.ApiClient:
    kubeconfig = api_server.write_service_account_kubeconfig(path, "shop", "harness")
    return config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)


def test_service_account_requests_are_authorized_by_its_role(
    api_server: ApiServer, tmp_path: Path
) -> None:
    _grant(api_server, ["get", "list"])
    api_server.store.create(DEPLOYMENTS, deployment(), "shop")
    with _client_as_service_account(api_server, tmp_path / "sa") as sa_client:
        apps = client.AppsV1Api(sa_client)
        assert [d.metadata.name for d in apps.list_namespaced_deployment("shop").items] == ["web"]
        with pytest.raises(ApiException) as refused:
            apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": 3}})
        with pytest.raises(ApiException) as elsewhere:
            client.CoreV1Api(sa_client).list_namespaced_pod("default")

    assert refused.value.status == 403
    assert _message(refused.value) == (
        'deployments.apps "web" is forbidden: User "system:serviceaccount:shop:harness" '
        'cannot patch resource "deployments" in API group "apps" in the namespace "shop"'
    )
    assert _message(elsewhere.value) == (
        'pods is forbidden: User "system:serviceaccount:shop:harness" cannot list resource '
        '"pods" in API group "" in the namespace "default"'
    )


def _message(error: ApiException) -> str:
    return str(json.loads(error.body)["message"])


def test_a_token_dies_with_its_service_account(api_server: ApiServer, tmp_path: Path) -> None:
    _grant(api_server, ["list"])
    with _client_as_service_account(api_server, tmp_path / "sa") as sa_client:
        apps = client.AppsV1Api(sa_client)
        apps.list_namespaced_deployment("shop")
        api_server.store.delete(SERVICE_ACCOUNTS, "shop", "harness")
        with pytest.raises(ApiException) as gone:
            apps.list_namespaced_deployment("shop")
    assert gone.value.status == 401


def test_cluster_role_binding_reaches_every_namespace(
    api_server: ApiServer, tmp_path: Path
) -> None:
    _grant(api_server, ["get"])
    store = api_server.store
    store.create(CLUSTER_ROLES, {"metadata": {"name": "view"}, **READ_PODS})
    subject = {"kind": "ServiceAccount", "name": "harness", "namespace": "shop"}
    store.create(
        CLUSTER_ROLE_BINDINGS, _binding("ClusterRoleBinding", "", ("ClusterRole", "view"), subject)
    )
    with _client_as_service_account(api_server, tmp_path / "sa") as sa_client:
        pods = client.CoreV1Api(sa_client).list_pod_for_all_namespaces()
    assert pods.items == []
