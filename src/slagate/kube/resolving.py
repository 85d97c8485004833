"""A Service's base URL, for when the scenario names a Service instead of a host.

In order: the annotation ``sandbox.slagate.io/url`` (the sandbox's service proxy writes
it), else the first ``status.loadBalancer.ingress`` entry (``ip`` or ``hostname``) with
the first port of that entry, else the Service's first port. Port 443 means ``https``.
A Service without an address yet is a ``PreflightError`` that suggests ``--host``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from kubernetes import client

from slagate.errors import KubernetesError, PreflightError
from slagate.kube.bodies import PortStatus, ServiceBody, ServicePort
from slagate.kube.connecting import api_call, server_of
from slagate.kube.streaming import read_json
from slagate.scenario import KubeTarget

URL_ANNOTATION = "sandbox.slagate.io/url"


def service_url(api_client: client.ApiClient, namespace: str, service: str) -> str:
    """The base URL (no trailing slash) of ``service`` in ``namespace``."""
    request = f"GET services/{service} in namespace {namespace}"
    try:
        with api_call(request, server_of(api_client)):
            response = client.CoreV1Api(api_client).read_namespaced_service(
                service, namespace, _preload_content=False, _request_timeout=10.0
            )
            body = cast(ServiceBody, read_json(response, request))
    except KubernetesError as e:
        raise PreflightError(f"cannot resolve service {service}: {e}") from e
    return url_of(body, f"{namespace}/{service}")


def url_of(body: ServiceBody, label: str) -> str:
    """The base URL a Service body advertises; ``PreflightError`` if none yet."""
    annotated = ((body.get("metadata") or {}).get("annotations") or {}).get(URL_ANNOTATION)
    if annotated:
        return annotated.rstrip("/")
    ingress = ((body.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    entry = next((i for i in ingress if i.get("ip") or i.get("hostname")), None)
    if entry is None:
        raise PreflightError(
            f"service {label} has no load-balancer address yet (status.loadBalancer.ingress "
            "is empty): wait for it, or pass the URL with --host (or --service NAME=URL)"
        )
    host = entry.get("ip") or entry.get("hostname", "")
    spec_ports = (body.get("spec") or {}).get("ports") or []
    port = _first_port(entry.get("ports") or []) or _first_port(spec_ports) or 80
    return _url(host, port)


def _first_port(ports: Sequence[PortStatus | ServicePort]) -> int | None:
    return next((p["port"] for p in ports if p.get("port")), None)


def _url(host: str, port: int) -> str:
    scheme = "https" if port == 443 else "http"
    bracketed = f"[{host}]" if ":" in host else host
    default = (scheme, port) in (("http", 80), ("https", 443))
    return f"{scheme}://{bracketed}" if default else f"{scheme}://{bracketed}:{port}"


def resolve_urls(
    api_client: client.ApiClient, namespace: str, target: KubeTarget
) -> tuple[str | None, dict[str, str]]:
    """The host (from ``target.service``) and the named services (``target.services``:
    locustfile name -> Service name) as base URLs."""
    host = service_url(api_client, namespace, target.service) if target.service else None
    services: Mapping[str, str] = target.services
    urls = {name: service_url(api_client, namespace, svc) for name, svc in services.items()}
    return host, urls
