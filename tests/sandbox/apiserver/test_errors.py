"""Errors are Status bodies with the right code; bad input never takes the server down."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest
from kubernetes import client

from slagate.sandbox.apiserver import ApiServer
from tests.sandbox.manifests import deployment

DEPLOYMENTS_URL = "/apis/apps/v1/namespaces/default/deployments"


def _without(path: str) -> dict[str, Any]:
    manifest = deployment()
    parent, _, leaf = path.rpartition(".")
    node = manifest
    for key in parent.split("."):
        node = node[key]
    del node[leaf]
    return manifest


def _with(path: str, value: Any) -> dict[str, Any]:
    manifest = deployment()
    parent, _, leaf = path.rpartition(".")
    node = manifest
    for key in parent.split("."):
        node = node[key]
    node[leaf] = value
    return manifest


@pytest.mark.parametrize(
    ("manifest", "field", "message"),
    [
        pytest.param(
            _without("spec.selector"), "spec.selector", "Required value", id="no-selector"
        ),
        pytest.param(
            _without("spec.template"), "spec.template", "Required value", id="no-template"
        ),
        pytest.param(
            _with("spec.selector", {"matchLabels": {"app": "other"}}),
            "spec.template.metadata.labels",
            "Invalid value: {'app': 'web'}: `selector` does not match template `labels`",
            id="selector-mismatch",
        ),
        pytest.param(
            _with("spec.replicas", -1),
            "spec.replicas",
            "Invalid value: -1: must be greater than or equal to 0",
            id="negative",
        ),
        pytest.param(
            _with("spec.template.spec.containers", []),
            "spec.template.spec.containers",
            "Required value",
            id="no-containers",
        ),
        pytest.param(_with("metadata.name", "Web_1"), "metadata.name", None, id="bad-name"),
    ],
)
def test_invalid_deployment_is_422_naming_the_field(
    raw_http: httpx.Client, manifest: Any, field: str, message: str | None
) -> None:
    response = raw_http.post(DEPLOYMENTS_URL, json=manifest)
    body = response.json()
    assert (response.status_code, body["kind"], body["reason"], body["code"]) == (
        422,
        "Status",
        "Invalid",
        422,
    )
    assert body["details"]["kind"] == "Deployment"
    assert body["details"]["causes"][0]["field"] == field
    if message is not None:
        assert body["details"]["causes"][0]["message"] == message
        assert (
            body["message"] == f'Deployment.apps "{manifest["metadata"]["name"]}" is '
            f"invalid: {field}: {message}"
        )


def test_unknown_object_is_404_status(apps_api: client.AppsV1Api) -> None:
    with pytest.raises(client.ApiException) as raised:
        apps_api.read_namespaced_deployment("nope", "default")
    assert json.loads(raised.value.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "group": "apps", "kind": "deployments"},
        "code": 404,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/apis/apps/v1/namespaces/default/widgets", id="unknown-resource"),
        pytest.param("GET", "/apis/shop.example/v1", id="unknown-group"),
        pytest.param(
            "GET", "/apis/apps/v1/namespaces/default/deployments/web/logs", id="unknown-subresource"
        ),
        pytest.param("GET", "/healthz/deep/path", id="unknown-path"),
    ],
)
def test_unknown_paths_are_404_status(raw_http: httpx.Client, method: str, path: str) -> None:
    response = raw_http.request(method, path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["reason"] == "NotFound"


def test_create_twice_is_already_exists(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment())
    with pytest.raises(client.ApiException) as raised:
        apps_api.create_namespaced_deployment("default", deployment())
    body = json.loads(raised.value.body)
    assert (raised.value.status, body["reason"]) == (409, "AlreadyExists")


@pytest.mark.parametrize(
    ("method", "path", "content", "headers"),
    [
        pytest.param("POST", DEPLOYMENTS_URL, b'{"metadata": ', {}, id="create"),
        pytest.param("PUT", f"{DEPLOYMENTS_URL}/web", b"[1, 2", {}, id="replace"),
        pytest.param(
            "PATCH",
            f"{DEPLOYMENTS_URL}/web",
            b"{,}",
            {"content-type": "application/strategic-merge-patch+json"},
            id="patch",
        ),
        pytest.param("POST", DEPLOYMENTS_URL, b"[]", {}, id="not-an-object"),
        pytest.param("GET", DEPLOYMENTS_URL + "?limit=ten", b"", {}, id="bad-limit"),
        pytest.param(
            "GET", DEPLOYMENTS_URL + "?labelSelector=a%20in%20(", b"", {}, id="bad-selector"
        ),
        pytest.param(
            "GET",
            DEPLOYMENTS_URL + "?watch=1&resourceVersion=abc",
            b"",
            {},
            id="bad-resource-version",
        ),
    ],
)
def test_malformed_requests_are_400_and_the_server_keeps_answering(
    raw_http: httpx.Client, method: str, path: str, content: bytes, headers: dict[str, str]
) -> None:
    raw_http.post(DEPLOYMENTS_URL, json=deployment())
    response = raw_http.request(method, path, content=content, headers=headers)
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"
    assert raw_http.get("/version").status_code == 200


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        pytest.param("application/apply-patch+yaml", b"spec: {}", id="server-side-apply"),
        pytest.param("application/vnd.kubernetes.protobuf", b"k8s\x00", id="protobuf"),
    ],
)
def test_unsupported_body_formats_are_415_with_advice(
    raw_http: httpx.Client, content_type: str, content: bytes
) -> None:
    raw_http.post(DEPLOYMENTS_URL, json=deployment())
    response = raw_http.patch(
        f"{DEPLOYMENTS_URL}/web", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "slagate sandbox" in response.json()["message"]


def test_bad_content_length_is_400_and_closes_the_connection(api_server: ApiServer) -> None:
    request = (
        b"POST /apis/apps/v1/namespaces/default/deployments HTTP/1.1\r\n"
        b"Host: x\r\nContent-Length: many\r\n"
        b"Authorization: Bearer " + api_server.token.encode() + b"\r\n\r\n"
    )
    tls = api_server.certificate.client_context()
    with (
        socket.create_connection(("127.0.0.1", api_server.port), timeout=5) as plain,
        tls.wrap_socket(plain, server_hostname="127.0.0.1") as connection,
    ):
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/json" in head
    assert json.loads(body)["message"] == "invalid Content-Length header"


def test_method_not_allowed_on_a_subresource(raw_http: httpx.Client) -> None:
    raw_http.post(DEPLOYMENTS_URL, json=deployment())
    response = raw_http.delete(f"{DEPLOYMENTS_URL}/web/scale")
    assert (response.status_code, response.json()["reason"]) == (405, "MethodNotAllowed")


def test_dry_run_is_refused_rather_than_persisted(raw_http: httpx.Client) -> None:
    response = raw_http.post(DEPLOYMENTS_URL, params={"dryRun": "All"}, json=deployment())
    assert response.status_code == 400
    assert raw_http.get(DEPLOYMENTS_URL).json()["items"] == []
