"""Service name -> base URL from load-balancer status or the sandbox annotation."""

from __future__ import annotations

from typing import Any

import pytest

from slagate.errors import PreflightError
from slagate.kube.connecting import KubeConnection
from slagate.kube.resolving import resolve_urls, service_url
from slagate.scenario import KubeTarget
from tests.kube.objects import NS, SERVICES, Cluster, service


def _balanced(cluster: Cluster, name: str, ingress: list[dict[str, Any]]) -> None:
    cluster.create(SERVICES, service(name))
    cluster.status(SERVICES, name, {"loadBalancer": {"ingress": ingress}})


@pytest.mark.parametrize(
    ("ingress", "url"),
    [
        pytest.param([{"ip": "10.0.0.5"}], "http://10.0.0.5:8080", id="ip-spec-port"),
        pytest.param(
            [{"hostname": "lb.example.com", "ports": [{"port": 443, "protocol": "TCP"}]}],
            "https://lb.example.com",
            id="hostname-ingress-port",
        ),
        pytest.param(
            [{"ip": "fd00::1", "ports": [{"port": 80, "protocol": "TCP"}]}],
            "http://[fd00::1]",
            id="ipv6",
        ),
    ],
)
def test_url_from_load_balancer_status(
    ingress: list[dict[str, Any]], url: str, connection: KubeConnection, cluster: Cluster
) -> None:
    _balanced(cluster, "order", ingress)
    assert service_url(connection.api_client, NS, "order") == url


def test_sandbox_annotation_wins(connection: KubeConnection, cluster: Cluster) -> None:
    cluster.create(SERVICES, service("order", {"sandbox.slagate.io/url": "http://127.0.0.1:9/"}))
    cluster.status(SERVICES, "order", {"loadBalancer": {"ingress": [{"ip": "10.0.0.5"}]}})
    assert service_url(connection.api_client, NS, "order") == "http://127.0.0.1:9"


def test_no_address_yet_suggests_host(connection: KubeConnection, cluster: Cluster) -> None:
    cluster.create(SERVICES, service("order"))
    with pytest.raises(PreflightError) as raised:
        service_url(connection.api_client, NS, "order")
    assert str(raised.value) == (
        "service shop/order has no load-balancer address yet (status.loadBalancer.ingress "
        "is empty): wait for it, or pass the URL with --host (or --service NAME=URL)"
    )


def test_missing_service_names_it(connection: KubeConnection) -> None:
    with pytest.raises(PreflightError, match=r"cannot resolve service order: GET services/order"):
        service_url(connection.api_client, NS, "order")


def test_resolve_host_and_named_services(connection: KubeConnection, cluster: Cluster) -> None:
    _balanced(cluster, "order", [{"ip": "10.0.0.5"}])
    _balanced(cluster, "product", [{"ip": "10.0.0.6"}])
    target = KubeTarget(namespace=NS, service="order", services={"product": "product"})
    assert resolve_urls(connection.api_client, NS, target) == (
        "http://10.0.0.5:8080",
        {"product": "http://10.0.0.6:8080"},
    )
