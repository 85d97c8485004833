"""The /scale subresource and SelfSubjectAccessReview."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.access import AccessRule
from tests.sandbox.manifests import deployment


def test_read_deployment_scale(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    apps_api.patch_namespaced_deployment_status("web", "default", {"status": {"replicas": 2}})
    scale = apps_api.read_namespaced_deployment_scale("web", "default")
    assert (scale.kind, scale.api_version) == ("Scale", "autoscaling/v1")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 2, "app=web")


def test_patch_deployment_scale_changes_spec_replicas(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    scale = apps_api.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 5}})
    updated = apps_api.read_namespaced_deployment("web", "default")
    assert scale.spec.replicas == 5
    assert (updated.spec.replicas, updated.metadata.generation) == (5, 2)


def test_replace_scale_with_stale_resource_version_is_conflict(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    stale = apps_api.read_namespaced_deployment_scale("web", "default")
    apps_api.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
    stale.spec.replicas = 8
    with pytest.raises(client.ApiException) as raised:
        apps_api.replace_namespaced_deployment_scale("web", "default", stale)
    assert raised.value.status == 409


def test_negative_scale_is_invalid(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    with pytest.raises(client.ApiException) as raised:
        apps_api.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": -1}})
    body = json.loads(raised.value.body)
    assert (raised.value.status, body["details"]["causes"][0]["field"]) == (422, "spec.replicas")


def test_replicaset_scale(apps_api: client.AppsV1Api) -> None:
    manifest = deployment("rs")
    manifest.update(kind="ReplicaSet")
    apps_api.create_namespaced_replica_set("default", manifest)
    apps_api.patch_namespaced_replica_set_scale("rs", "default", {"spec": {"replicas": 0}})
    replica_set = apps_api.read_namespaced_replica_set("rs", "default")
    assert (replica_set.spec.replicas, replica_set.status.replicas) == (0, 0)


def _review(
    api_client: client.ApiClient, verb: str, resource: str
) -> client.V1SubjectAccessReviewStatus:
    body = {
        "spec": {
            "resourceAttributes": {
                "namespace": "shop",
                "verb": verb,
                "group": "apps",
                "resource": resource,
            }
        }
    }
    answer = client.AuthorizationV1Api(api_client).create_self_subject_access_review(body)
    return answer.status


def test_access_reviews_allow_by_default_and_follow_deny_rules(
    api_server: ApiServer, api_client: client.ApiClient
) -> None:
    assert _review(api_client, "patch", "deployments").allowed is True
    api_server.access.deny(AccessRule(verb="patch", resource="deployments", namespace="shop"))
    denied = _review(api_client, "patch", "deployments")
    assert (denied.allowed, denied.denied) == (False, True)
    assert "verb='patch'" in denied.reason
    assert _review(api_client, "get", "deployments").allowed is True
    assert _review(api_client, "patch", "replicasets").allowed is True


def test_access_review_without_attributes_is_invalid(api_client: client.ApiClient) -> None:
    with pytest.raises(client.ApiException) as raised:
        client.AuthorizationV1Api(api_client).create_self_subject_access_review({"spec": {}})
    assert raised.value.status == 422
