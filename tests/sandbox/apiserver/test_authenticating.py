"""Only the holder of the kubeconfig's token may use the sandbox API, and only from loopback."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
from pathlib import Path

import httpx
import psutil
import pytest
import yaml
from kubernetes import client, config

from slagate.errors import SandboxError
from slagate.sandbox.apiserver import ApiServer, ApiServerSettings
from slagate.sandbox.apiserver.authenticating import BearerAuthenticator, new_token
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.resources import DEPLOYMENTS
from slagate.sandbox.objects.selection import Selection
from tests.sandbox.manifests import deployment
from tests.sandbox.rawapi import raw_client

KUBECTL = Path("/usr/bin/kubectl")
DEPLOYMENTS_URL = "/apis/apps/v1/namespaces/default/deployments"
UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


@pytest.mark.parametrize(
    ("path", "authorization", "allowed"),
    [
        pytest.param(DEPLOYMENTS_URL, "Bearer s3cret", True, id="the-token"),
        pytest.param(DEPLOYMENTS_URL, "bearer  s3cret ", True, id="scheme-any-case"),
        pytest.param(DEPLOYMENTS_URL, None, False, id="no-header"),
        pytest.param(DEPLOYMENTS_URL, "", False, id="empty-header"),
        pytest.param(DEPLOYMENTS_URL, "Bearer s3cre", False, id="a-prefix-of-it"),
        pytest.param(DEPLOYMENTS_URL, "Bearer s3cret2", False, id="longer"),
        pytest.param(DEPLOYMENTS_URL, "Basic s3cret", False, id="another-scheme"),
        pytest.param(DEPLOYMENTS_URL, "s3cret", False, id="no-scheme"),
        pytest.param("/version", None, True, id="version-is-public"),
        pytest.param("/version/", None, False, id="only-that-path"),
        pytest.param("/_sandbox/cut-watches", None, False, id="controls-are-not"),
    ],
)
def test_who_is_let_in(path: str, authorization: str | None, allowed: bool) -> None:
    assert BearerAuthenticator("s3cret").allows(path, authorization) is allowed


def test_the_token_is_random_and_never_shown() -> None:
    token, other = new_token(), new_token()
    assert token != other
    assert len(token) == 43
    assert token not in repr(BearerAuthenticator(token))
    assert token not in repr(ApiServer(token=token))
    with pytest.raises(ValueError, match="must not be empty"):
        BearerAuthenticator("")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="without-token"),
        pytest.param({"Authorization": "Bearer not-the-token"}, id="wrong-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic-auth"),
    ],
)
def test_unauthenticated_requests_get_the_kubernetes_401(
    api_server: ApiServer, headers: dict[str, str]
) -> None:
    with raw_client(api_server, headers=headers) as http:
        response = http.get(DEPLOYMENTS_URL)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == UNAUTHORIZED
    assert api_server.request_counts() == {}


def test_a_write_without_the_token_changes_nothing(
    api_server: ApiServer, sandbox_store: ObjectStore
) -> None:
    with raw_client(api_server, headers={}) as http:
        response = http.post(DEPLOYMENTS_URL, json=deployment("intruder"))
        cut = http.post("/_sandbox/cut-watches")
    assert (response.status_code, cut.status_code) == (401, 401)
    assert response.headers["connection"] == "close"  # its body was never read
    assert sandbox_store.list(Selection(DEPLOYMENTS)).items == []


def test_the_token_lets_a_raw_client_in(raw_http: httpx.Client) -> None:
    created = raw_http.post(DEPLOYMENTS_URL, json=deployment("web"))
    listed = raw_http.get(DEPLOYMENTS_URL)
    assert (created.status_code, listed.status_code) == (201, 200)
    assert [d["metadata"]["name"] for d in listed.json()["items"]] == ["web"]


def test_version_is_served_without_the_token(api_server: ApiServer) -> None:
    with raw_client(api_server, headers={}) as http:
        response = http.get("/version")
    assert response.status_code == 200
    assert response.json()["major"] == "1"


def test_the_official_client_uses_the_kubeconfig_token(
    apps_api: client.AppsV1Api, api_server: ApiServer, tmp_path: Path
) -> None:
    apps_api.create_namespaced_deployment("default", deployment("web"))
    assert [d.metadata.name for d in apps_api.list_namespaced_deployment("default").items] == [
        "web"
    ]
    stale = _with_token(api_server.write_kubeconfig(tmp_path / "stale"), "an-old-sandbox's")
    with (
        config.new_client_from_config(config_file=str(stale), persist_config=False) as api,
        pytest.raises(client.ApiException) as raised,
    ):
        client.AppsV1Api(api).list_namespaced_deployment("default")
    assert raised.value.status == 401
    assert json.loads(raised.value.body) == UNAUTHORIZED


@pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl is not installed")
def test_kubectl_with_the_kubeconfig_works_and_without_it_is_refused(
    kubeconfig_path: Path, api_server: ApiServer, sandbox_store: ObjectStore, tmp_path: Path
) -> None:
    sandbox_store.create(DEPLOYMENTS, deployment("web"), "default")

    def kubectl(kubeconfig: Path) -> subprocess.CompletedProcess[str]:
        argv = [str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path)]
        argv += ["get", "deployments", "-o", "name"]
        return subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)

    stale = _with_token(api_server.write_kubeconfig(tmp_path / "stale"), "wrong")
    allowed, refused = kubectl(kubeconfig_path), kubectl(stale)
    assert (allowed.returncode, allowed.stdout) == (0, "deployment.apps/web\n")
    assert refused.returncode == 1
    assert "Unauthorized" in refused.stderr


def test_the_kubeconfig_holds_the_token_and_only_its_owner_may_read_it(
    api_server: ApiServer, kubeconfig_path: Path
) -> None:
    mode = stat.S_IMODE(kubeconfig_path.stat().st_mode)
    written = yaml.safe_load(kubeconfig_path.read_text(encoding="utf-8"))
    assert oct(mode) == oct(0o600)
    assert written["users"][0]["user"] == {"token": api_server.token}


def test_the_server_listens_on_loopback_only(api_server: ApiServer) -> None:
    listening = [
        c.laddr
        for c in psutil.Process().net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == api_server.port
    ]
    assert [address.ip for address in listening] == ["127.0.0.1"]
    outside = _non_loopback_address()
    if outside is not None:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://{outside}:{api_server.port}/version", verify=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_a_non_loopback_address_is_refused(host: str) -> None:
    with pytest.raises(SandboxError, match="loopback only"):
        ApiServerSettings(host=host)


def _with_token(kubeconfig: Path, token: str) -> Path:
    """``kubeconfig`` with another token: what a kubeconfig of an earlier sandbox holds."""
    written = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
    written["users"][0]["user"]["token"] = token
    kubeconfig.write_text(yaml.safe_dump(written), encoding="utf-8")
    return kubeconfig


def _non_loopback_address() -> str | None:
    """One of this machine's IPv4 addresses outside 127/8, if it has one."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return str(address.address)
    return None
