"""ConfigMaps, Secrets, ServiceAccounts and the other stored kinds through the official
client, plain HTTP and kubectl: the same store, list, selector and watch paths as pods."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

NS = "default"


def test_secret_merges_string_data_into_data_and_refuses_bad_base64(
    core_api: client.CoreV1Api,
) -> None:
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name="creds"),
        data={"user": base64.b64encode(b"bob").decode(), "token": "dG9r"},
        string_data={"user": "alice"},
    )
    created = core_api.create_namespaced_secret(NS, body)
    assert created.type == "Opaque"
    assert created.string_data is None
    assert created.data == {"user": base64.b64encode(b"alice").decode(), "token": "dG9r"}

    with pytest.raises(ApiException) as refused:
        core_api.create_namespaced_secret(
            NS, client.V1Secret(metadata=client.V1ObjectMeta(name="bad"), data={"k": "no!base64"})
        )
    status = json.loads(refused.value.body)
    assert refused.value.status == 422
    assert status["details"]["causes"][0]["field"] == "data[k]"
    assert status["message"].startswith('Secret "bad" is invalid: data[k]: Invalid value')


def test_config_maps_list_by_label_and_watch_like_any_kind(core_api: client.CoreV1Api) -> None:
    for name, tier in (("a", "web"), ("b", "db"), ("c", "web")):
        meta = client.V1ObjectMeta(name=name, labels={"tier": tier})
        core_api.create_namespaced_config_map(
            NS, client.V1ConfigMap(metadata=meta, data={"k": name})
        )
    listed = core_api.list_namespaced_config_map(NS, label_selector="tier=web")
    assert [cm.metadata.name for cm in listed.items] == ["a", "c"]

    core_api.patch_namespaced_config_map("a", NS, {"data": {"k": "changed"}})
    core_api.delete_namespaced_config_map("c", NS)
    stream = watch.Watch().stream(
        core_api.list_namespaced_config_map,
        NS,
        label_selector="tier=web",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=1,
    )
    seen = [(e["type"], e["object"].metadata.name, e["object"].data) for e in stream]
    assert seen == [("MODIFIED", "a", {"k": "changed"}), ("DELETED", "c", {"k": "c"})]


def test_service_account_token_request_names_the_account(core_api: client.CoreV1Api) -> None:
    core_api.create_namespaced_service_account(
        NS, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="harness"))
    )
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))
    answer = core_api.create_namespaced_service_account_token("harness", NS, request)
    assert answer.status.token.startswith("sa1.")
    with pytest.raises(ApiException) as missing:
        core_api.create_namespaced_service_account_token("nobody", NS, request)
    assert missing.value.status == 404


STORED_KINDS = [
    ("/api/v1/namespaces/default/serviceaccounts", {"kind": "ServiceAccount"}),
    (
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        {"kind": "Role", "rules": []},
    ),
    (
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        {"kind": "PodDisruptionBudget", "spec": {"minAvailable": 1}},
    ),
    (
        "/apis/networking.k8s.io/v1/namespaces/default/ingresses",
        {"kind": "Ingress", "spec": {}},
    ),
    (
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        {"kind": "ClusterRole", "rules": []},
    ),
]


@pytest.mark.parametrize(("path", "body"), STORED_KINDS, ids=[b["kind"] for _, b in STORED_KINDS])
def test_every_stored_kind_lists_by_label_and_watches(
    raw_http: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    for name, team in (("one", "sre"), ("two", "web")):
        meta = {"name": name, "labels": {"team": team}}
        created = raw_http.post(path, json={**body, "metadata": meta})
        assert created.status_code == 201, created.text
    listed = raw_http.get(path, params={"labelSelector": "team in (sre)"}).json()
    assert [i["metadata"]["name"] for i in listed["items"]] == ["one"]

    assert raw_http.delete(f"{path}/one").status_code == 200
    params = {
        "watch": "true",
        "resourceVersion": listed["metadata"]["resourceVersion"],
        "timeoutSeconds": "1",
    }
    lines = raw_http.get(path, params=params).text.splitlines()
    events = [(e["type"], e["object"]["metadata"]["name"]) for e in map(json.loads, lines)]
    assert events == [("DELETED", "one")]
