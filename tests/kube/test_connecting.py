"""Client configuration, the namespace rule, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from slagate.errors import ConfigError, KubernetesError, PreflightError
from slagate.kube.acting import Actor
from slagate.kube.connecting import KubeConnection, KubeOptions, check_server, connect
from slagate.sandbox.apiserver import ApiServer
from slagate.scenario import KubeTarget
from tests.kube.objects import NS


@pytest.mark.parametrize(
    ("option", "target", "namespace"),
    [
        pytest.param(None, None, NS, id="context"),
        pytest.param("cli", KubeTarget(namespace="scenario"), "cli", id="option-wins"),
        pytest.param(None, KubeTarget(namespace="scenario"), "scenario", id="scenario-explicit"),
        pytest.param(None, KubeTarget(), NS, id="scenario-default-yields-to-context"),
    ],
)
def test_namespace_from_option_scenario_or_context(
    option: str | None, target: KubeTarget | None, namespace: str, kubeconfig: Path
) -> None:
    connection = connect(KubeOptions(kubeconfig=kubeconfig, namespace=option), target)
    connection.close()
    assert connection.namespace == namespace
    assert connection.source == f"kubeconfig {kubeconfig}, context slagate-sandbox"


def test_unknown_context_lists_the_known_ones(kubeconfig: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"--context prod: no such context in .* \(it has: slagate-sandbox\)"
    ):
        connect(KubeOptions(kubeconfig=kubeconfig, context="prod"))


def test_no_configuration_at_all_is_a_preflight_error(tmp_path: Path) -> None:
    environ = {"KUBECONFIG": str(tmp_path / "absent")}
    with pytest.raises(PreflightError, match="no usable Kubernetes configuration"):
        connect(environ=environ)


def test_default_kubeconfig_from_the_environment(server: ApiServer, tmp_path: Path) -> None:
    path = server.write_kubeconfig(tmp_path / "kc", namespace="team")
    connection = connect(environ={"KUBECONFIG": str(path)})
    connection.close()
    assert (connection.server, connection.namespace) == (server.url, "team")


def test_in_cluster_service_account(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("not-a-real-token")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "namespace").write_text("shop\n")
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    connection = connect(environ=environ, service_account_dir=tmp_path)
    connection.close()
    assert (connection.server, connection.namespace, connection.source) == (
        "https://10.96.0.1:443",
        "shop",
        "in-cluster service account",
    )


def test_check_server_answers_with_the_version(connection: KubeConnection) -> None:
    assert check_server(connection).startswith("v1.")


def test_unreachable_server_is_a_preflight_error_naming_it(tmp_path: Path) -> None:
    with ApiServer() as server:
        url, kubeconfig = server.url, server.write_kubeconfig(tmp_path / "kc")
    connection = connect(KubeOptions(kubeconfig=kubeconfig))
    with pytest.raises(PreflightError) as raised:
        check_server(connection, timeout_s=1.0)
    connection.close()
    assert str(raised.value).startswith(f"the Kubernetes API server {url} is unreachable (")


def test_api_errors_name_status_request_and_remedy(connection: KubeConnection) -> None:
    with pytest.raises(KubernetesError) as raised:
        Actor(connection.api_client, NS).read_deployment("nope")
    assert not isinstance(raised.value, client.ApiException)
    assert isinstance(raised.value.__cause__, client.ApiException)
    assert str(raised.value) == (
        'GET deployments/nope in namespace shop: HTTP 404 Not Found: deployments.apps "nope" '
        "not found; not found: check the name and the namespace (--namespace, "
        "target.kubernetes.namespace)"
    )
