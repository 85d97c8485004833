"""Discovery documents the client and kubectl read first."""

from __future__ import annotations

import httpx
from kubernetes import client


def test_version_and_group_discovery_through_the_client(api_client: client.ApiClient) -> None:
    version = client.VersionApi(api_client).get_code()
    groups = client.ApisApi(api_client).get_api_versions()
    core = client.CoreApi(api_client).get_api_versions()
    assert (version.major, version.minor) == ("1", "32")
    assert [g.name for g in groups.groups] == [
        "apps",
        "autoscaling",
        "discovery.k8s.io",
        "rbac.authorization.k8s.io",
        "policy",
        "batch",
        "networking.k8s.io",
        "apiextensions.k8s.io",
        "authorization.k8s.io",
    ]
    assert core.versions == ["v1"]


def test_resource_lists_name_subresources_and_scale_kind(api_client: client.ApiClient) -> None:
    resources = client.AppsV1Api(api_client).get_api_resources().resources
    by_name = {r.name: r for r in resources}
    assert sorted(by_name) == [
        "daemonsets",
        "daemonsets/status",
        "deployments",
        "deployments/scale",
        "deployments/status",
        "replicasets",
        "replicasets/scale",
        "replicasets/status",
    ]
    scale = by_name["deployments/scale"]
    assert (scale.kind, scale.group, scale.version) == ("Scale", "autoscaling", "v1")
    assert by_name["deployments"].short_names == ["deploy"]
    assert "watch" in by_name["deployments"].verbs


def test_every_served_group_version_answers(raw_http: httpx.Client) -> None:
    paths = [
        "/api/v1",
        "/apis/apps/v1",
        "/apis/autoscaling/v2",
        "/apis/discovery.k8s.io/v1",
        "/apis/authorization.k8s.io/v1",
        "/apis/batch/v1",
        "/apis/apps",
        "/openapi/v3",
        "/openapi/v3/apis/apps/v1",
    ]
    answers = {path: raw_http.get(path) for path in paths}
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(paths, 200)
    core = {r["name"]: r for r in answers["/api/v1"].json()["resources"]}
    assert {"Pod", "Service", "Event", "Namespace", "Endpoints"} <= {
        r["kind"] for r in core.values()
    }
    assert {"ConfigMap", "Secret", "ServiceAccount"} <= {r["kind"] for r in core.values()}
    eviction, token = core["pods/eviction"], core["serviceaccounts/token"]
    assert (eviction["group"], eviction["kind"], eviction["verbs"]) == (
        "policy",
        "Eviction",
        ["create"],
    )
    assert (token["group"], token["kind"]) == ("authentication.k8s.io", "TokenRequest")


def test_request_counter_counts_by_resource_and_verb(
    api_server: object, raw_http: httpx.Client
) -> None:
    url = "/apis/apps/v1/namespaces/default/deployments"
    raw_http.get(url)
    raw_http.get(url, params={"watch": "true", "timeoutSeconds": "1", "resourceVersion": "1"})
    raw_http.get(f"{url}/web/scale")
    counts = raw_http.get("/_sandbox/requests").json()["requests"]
    assert counts == [
        {"resource": "deployments", "verb": "list", "count": 1},
        {"resource": "deployments", "verb": "watch", "count": 1},
        {"resource": "deployments/scale", "verb": "get", "count": 1},
    ]
