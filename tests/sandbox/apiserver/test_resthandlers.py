"""CRUD through the official client: Deployments, Pods, Services, HPAs, EndpointSlices,
Events, Namespaces; defaults, generation and the status/spec split."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from kubernetes import client

from tests.sandbox.manifests import deployment, pod

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_create_assigns_server_fields_and_defaults(raw_http: httpx.Client) -> None:
    response = raw_http.post("/apis/apps/v1/namespaces/default/deployments", json=deployment())
    body = response.json()
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert RFC3339_Z.match(body["metadata"]["creationTimestamp"])
    assert body["metadata"]["generation"] == 1
    assert body["metadata"]["uid"]
    assert int(body["metadata"]["resourceVersion"]) > 0
    assert body["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert body["spec"]["revisionHistoryLimit"] == 10
    assert body["spec"]["progressDeadlineSeconds"] == 600
    assert body["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert body["status"] == {}


def test_deployment_get_list_replace_delete(apps_api: client.AppsV1Api) -> None:
    created = apps_api.create_namespaced_deployment("default", deployment())
    listed = apps_api.list_namespaced_deployment("default")
    assert [d.metadata.name for d in listed.items] == ["web"]
    assert listed.metadata.resource_version == created.metadata.resource_version

    created.spec.replicas = 4
    replaced = apps_api.replace_namespaced_deployment("web", "default", created)
    assert replaced.spec.replicas == 4
    assert replaced.metadata.generation == 2
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    status = apps_api.delete_namespaced_deployment("web", "default")
    assert status["status"] == "Success"
    assert status["details"]["name"] == "web"
    with pytest.raises(client.ApiException) as raised:
        apps_api.read_namespaced_deployment("web", "default")
    assert raised.value.status == 404


def test_replace_with_stale_resource_version_is_conflict(apps_api: client.AppsV1Api) -> None:
    stale = apps_api.create_namespaced_deployment("default", deployment())
    apps_api.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
    with pytest.raises(client.ApiException) as raised:
        apps_api.replace_namespaced_deployment("web", "default", stale)
    body = json.loads(raised.value.body)
    assert (raised.value.status, body["reason"], body["code"]) == (409, "Conflict", 409)
    assert body["message"].startswith('Operation cannot be fulfilled on deployments.apps "web"')


def test_generation_moves_only_with_spec(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    relabelled = apps_api.patch_namespaced_deployment(
        "web", "default", {"metadata": {"labels": {"team": "shop"}}}
    )
    status_write = apps_api.patch_namespaced_deployment_status(
        "web", "default", {"status": {"observedGeneration": 1, "replicas": 2}}
    )
    rescaled = apps_api.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 5}})
    assert [
        relabelled.metadata.generation,
        status_write.metadata.generation,
        rescaled.metadata.generation,
    ] == [1, 1, 2]


def test_main_resource_ignores_status_and_status_ignores_spec(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    main = apps_api.patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 3}, "status": {"replicas": 99}}
    )
    status = apps_api.patch_namespaced_deployment_status(
        "web", "default", {"spec": {"replicas": 7}, "status": {"readyReplicas": 1}}
    )
    assert (main.spec.replicas, main.status.replicas) == (3, None)
    assert (status.spec.replicas, status.status.ready_replicas) == (3, 1)


def test_patch_flavours_from_the_python_client(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    image_patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "shop:2"}]}}}
    }
    strategic = apps_api.patch_namespaced_deployment("web", "default", image_patch)
    assert [(c.name, c.image) for c in strategic.spec.template.spec.containers] == [
        ("app", "shop:2"),
        ("sidecar", "proxy:1"),
    ]
    assert strategic.spec.template.spec.containers[0].env[0].name == "MODE"

    merged = apps_api.patch_namespaced_deployment(
        "web", "default", image_patch, _content_type="application/merge-patch+json"
    )
    assert [c.name for c in merged.spec.template.spec.containers] == ["app"]

    operations = [
        {"op": "replace", "path": "/spec/replicas", "value": 6},
        {"op": "add", "path": "/metadata/annotations", "value": {"note": "x"}},
    ]
    patched = apps_api.patch_namespaced_deployment("web", "default", operations)
    assert (patched.spec.replicas, patched.metadata.annotations) == (6, {"note": "x"})


def test_failed_json_patch_test_is_422_and_changes_nothing(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    operations = [
        {"op": "replace", "path": "/spec/replicas", "value": 9},
        {"op": "test", "path": "/spec/replicas", "value": 1},
    ]
    with pytest.raises(client.ApiException) as raised:
        apps_api.patch_namespaced_deployment("web", "default", operations)
    assert raised.value.status == 422
    assert apps_api.read_namespaced_deployment("web", "default").spec.replicas == 2


def test_patch_carrying_a_stale_resource_version_is_conflict(apps_api: client.AppsV1Api) -> None:
    created = apps_api.create_namespaced_deployment("default", deployment())
    apps_api.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
    stale = {
        "metadata": {"resourceVersion": created.metadata.resource_version},
        "spec": {"replicas": 4},
    }
    with pytest.raises(client.ApiException) as raised:
        apps_api.patch_namespaced_deployment("web", "default", stale)
    assert raised.value.status == 409


def test_pods_start_pending_and_delete_echoes_the_pod(core_api: client.CoreV1Api) -> None:
    created = core_api.create_namespaced_pod("default", pod("web-1", {"app": "web"}))
    assert created.status.phase == "Pending"
    assert created.spec.restart_policy == "Always"
    ready = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    running = core_api.patch_namespaced_pod_status("web-1", "default", ready)
    assert (running.status.phase, running.status.conditions[0].type) == ("Running", "Ready")
    deleted = core_api.delete_namespaced_pod("web-1", "default")
    assert isinstance(deleted, client.V1Pod)
    assert core_api.list_namespaced_pod("default").items == []


def test_services_get_a_cluster_ip_and_default_target_port(core_api: client.CoreV1Api) -> None:
    manifest = {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    created = core_api.create_namespaced_service("default", manifest)
    assert created.spec.cluster_ip == "10.96.0.10"
    assert (created.spec.type, created.spec.ports[0].target_port) == ("ClusterIP", 80)
    deleted = core_api.delete_namespaced_service("web", "default")
    assert isinstance(deleted, client.V1Service)


def test_hpa_v2_status_round_trip(autoscaling_api: client.AutoscalingV2Api) -> None:
    manifest = {
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 15},
                    },
                }
            ],
        },
    }
    created = autoscaling_api.create_namespaced_horizontal_pod_autoscaler("default", manifest)
    assert (created.spec.min_replicas, created.status.desired_replicas) == (1, 0)
    status = {
        "status": {
            "currentReplicas": 1,
            "desiredReplicas": 3,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": 40, "averageValue": "123m"},
                    },
                }
            ],
        }
    }
    autoscaling_api.patch_namespaced_horizontal_pod_autoscaler_status("web", "default", status)
    hpa = autoscaling_api.list_horizontal_pod_autoscaler_for_all_namespaces().items[0]
    assert (hpa.status.current_replicas, hpa.status.desired_replicas) == (1, 3)
    assert hpa.status.current_metrics[0].resource.current.average_utilization == 40
    autoscaling_api.delete_namespaced_horizontal_pod_autoscaler("web", "default")
    assert autoscaling_api.list_namespaced_horizontal_pod_autoscaler("default").items == []


def test_endpoint_slices_by_service_label(api_client: client.ApiClient) -> None:
    discovery = client.DiscoveryV1Api(api_client)
    for service in ("web", "db"):
        discovery.create_namespaced_endpoint_slice(
            "default",
            {
                "metadata": {
                    "name": f"{service}-abc",
                    "labels": {"kubernetes.io/service-name": service},
                },
                "addressType": "IPv4",
                "ports": [{"name": "http", "port": 8080}],
                "endpoints": [
                    {
                        "addresses": ["127.0.0.1"],
                        "conditions": {"ready": True, "serving": True, "terminating": False},
                    }
                ],
            },
        )
    slices = discovery.list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=web"
    )
    assert [s.metadata.name for s in slices.items] == ["web-abc"]
    assert slices.items[0].endpoints[0].conditions.ready is True
    assert slices.items[0].ports[0].protocol == "TCP"
    discovery.delete_namespaced_endpoint_slice("web-abc", "default")
    remaining = discovery.list_namespaced_endpoint_slice("default").items
    assert [s.metadata.name for s in remaining] == ["db-abc"]


def test_events_filtered_by_involved_object(core_api: client.CoreV1Api) -> None:
    for name in ("web-1", "web-2"):
        core_api.create_namespaced_event(
            "default",
            {
                "metadata": {"name": f"{name}.1"},
                "involvedObject": {"kind": "Pod", "name": name, "namespace": "default"},
                "reason": "Killing",
                "message": "Stopping container app",
                "type": "Normal",
            },
        )
    events = core_api.list_namespaced_event("default", field_selector="involvedObject.name=web-2")
    assert [(e.metadata.name, e.reason) for e in events.items] == [("web-2.1", "Killing")]
    core_api.delete_namespaced_event("web-1.1", "default")
    assert [e.metadata.name for e in core_api.list_namespaced_event("default").items] == ["web-2.1"]


def test_namespaces_scope_objects(core_api: client.CoreV1Api, apps_api: client.AppsV1Api) -> None:
    assert [n.metadata.name for n in core_api.list_namespace().items] == ["default", "kube-system"]
    with pytest.raises(client.ApiException) as raised:
        apps_api.create_namespaced_deployment("shop", deployment())
    assert json.loads(raised.value.body)["message"] == 'namespaces "shop" not found'
    core_api.create_namespace({"metadata": {"name": "shop"}})
    apps_api.create_namespaced_deployment("shop", deployment())
    apps_api.create_namespaced_deployment("default", deployment("api"))
    everywhere = apps_api.list_deployment_for_all_namespaces()
    assert [(d.metadata.namespace, d.metadata.name) for d in everywhere.items] == [
        ("default", "api"),
        ("shop", "web"),
    ]
    core_api.delete_namespace("shop")
    assert [d.metadata.name for d in apps_api.list_deployment_for_all_namespaces().items] == ["api"]


def test_limit_and_continue_page_through_a_list(core_api: client.CoreV1Api) -> None:
    for index in range(5):
        core_api.create_namespaced_pod("default", pod(f"p{index}"))
    names, token = [], None
    for _ in range(3):
        page = core_api.list_namespaced_pod("default", limit=2, _continue=token)
        names.append([p.metadata.name for p in page.items])
        token = page.metadata._continue
    assert names == [["p0", "p1"], ["p2", "p3"], ["p4"]]
    assert token is None
