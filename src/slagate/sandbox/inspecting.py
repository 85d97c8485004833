"""A running sandbox seen from outside: the official client over its kubeconfig, for the CLI.

``cluster_tables`` renders Deployments, HPAs and pods the way ``kubectl get`` does
(same columns, same ages, same pod STATUS rules); ``wait_available`` waits until every
Deployment is available, as ``kubectl rollout status`` would for each. Reading goes
through the API server like any client's would, with raw JSON bodies (``RawObject``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from slagate.errors import ConfigError, SandboxError
from slagate.files import PRIVATE_MODE, write_atomically
from slagate.sandbox.objects.bodies import RawObject, mapping_at, metadata

_POLL_S = 0.25


class ClusterReader:
    """Lists through the API server of ``kubeconfig`` (all namespaces)."""

    def __init__(self, kubeconfig: Path) -> None:
        api = _api_client(kubeconfig)
        self._api = api
        self._apps = client.AppsV1Api(api)
        self._core = client.CoreV1Api(api)
        self._autoscaling = client.AutoscalingV2Api(api)

    def slow_down(self, seconds: float) -> None:
        """Fault injection: the API server holds every answer and watch event back for
        ``seconds`` (``POST /_sandbox/slow``); 0 lifts a slowdown under way."""
        method, url, headers, body, post = self._api.param_serialize(
            "POST",
            "/_sandbox/slow",
            query_params=[("seconds", f"{seconds:g}")],
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(method, url, headers, body, post, _request_timeout=10)
            answer = response.response.data  # the urllib3 response: its body, read
            if response.status != 200:
                raise SandboxError(
                    f"the sandbox API server refused the slowdown: {response.status} "
                    f"{answer[:200]!r}"
                )
        except (ApiException, HTTPError) as error:
            raise SandboxError(f"the sandbox API server refused the slowdown: {error}") from error

    def deployments(self) -> list[RawObject]:
        return self._items(self._apps.list_deployment_for_all_namespaces)

    def pods(self) -> list[RawObject]:
        return self._items(self._core.list_pod_for_all_namespaces)

    def hpas(self) -> list[RawObject]:
        return self._items(self._autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces)

    def _items(self, call: Callable[..., Any]) -> list[RawObject]:
        try:
            response = call(_preload_content=False, _request_timeout=10)
            items: list[RawObject] = json.loads(response.data)["items"]
        except (ApiException, HTTPError, ValueError, KeyError) as error:
            raise SandboxError(f"the sandbox API server did not answer a list: {error}") from error
        return items


def _api_client(kubeconfig: Path) -> client.ApiClient:
    try:
        return config.new_client_from_config(  # type: ignore[no-untyped-call,no-any-return]
            config_file=str(kubeconfig), persist_config=False
        )
    except (ConfigException, OSError) as error:
        raise SandboxError(f"cannot load kubeconfig {kubeconfig}: {error}") from error


def cluster_tables(kubeconfig: Path, now: float | None = None) -> list[str]:
    """Deployments, HPAs and pods as ``kubectl get`` tables (empty kinds left out)."""
    reader = ClusterReader(kubeconfig)
    moment = time.time() if now is None else now
    tables = [
        render(["DEPLOYMENT", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
               [deployment_row(d, moment) for d in reader.deployments()]),
        render(["HPA", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
               [hpa_row(h, moment) for h in reader.hpas()]),
        render(["POD", "READY", "STATUS", "RESTARTS", "AGE", "IP"],
               [pod_row(p, moment) for p in reader.pods()]),
    ]  # fmt: skip
    return [table for table in tables if table]


def wait_available(
    kubeconfig: Path, timeout_s: float, shown_timeout_s: float | None = None
) -> None:
    """Block until every Deployment has all its replicas updated and available;
    ``SandboxError`` listing the laggards and the pods after ``timeout_s`` (the message
    says ``shown_timeout_s`` when the caller's budget started earlier)."""
    reader = ClusterReader(kubeconfig)
    deadline = time.monotonic() + max(timeout_s, 0.0)
    while True:
        waiting = [d for d in reader.deployments() if not is_available(d)]
        if not waiting:
            return
        if time.monotonic() > deadline:
            names = ", ".join(
                f"{_name(d)} ({deployment_row(d, time.time())[1]} ready)" for d in waiting
            )
            pods = render(["POD", "READY", "STATUS", "RESTARTS", "AGE", "IP"],
                          [pod_row(p, time.time()) for p in reader.pods()])  # fmt: skip
            waited = timeout_s if shown_timeout_s is None else shown_timeout_s
            raise SandboxError(f"deployments not available after {waited:g} s: {names}\n{pods}")
        time.sleep(_POLL_S)


def is_available(deployment: RawObject) -> bool:
    spec, status = mapping_at(deployment, "spec"), mapping_at(deployment, "status")
    wanted = int(spec.get("replicas", 1))
    return (
        int(status.get("observedGeneration", 0)) >= int(metadata(deployment).get("generation", 1))
        and int(status.get("updatedReplicas", 0)) >= wanted
        and int(status.get("availableReplicas", 0)) >= wanted
        and int(status.get("replicas", 0)) <= wanted
    )


def deployment_row(deployment: RawObject, now: float) -> list[str]:
    spec, status = mapping_at(deployment, "spec"), mapping_at(deployment, "status")
    return [
        _name(deployment),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        str(status.get("updatedReplicas", 0)),
        str(status.get("availableReplicas", 0)),
        age(deployment, now),
    ]


def hpa_row(hpa: RawObject, now: float) -> list[str]:
    spec, status = mapping_at(hpa, "spec"), mapping_at(hpa, "status")
    target = mapping_at(spec, "scaleTargetRef")
    return [
        _name(hpa),
        f"{target.get('kind', '')}/{target.get('name', '')}",
        hpa_targets(hpa),
        str(spec.get("minReplicas", 1)),
        str(spec.get("maxReplicas", "")),
        str(status.get("currentReplicas", 0)),
        age(hpa, now),
    ]


def hpa_targets(hpa: RawObject) -> str:
    """``cpu: 12%/15%`` per Resource metric, ``<unknown>`` before the first sample."""
    current: dict[str, Any] = {}
    for metric in mapping_at(hpa, "status").get("currentMetrics") or []:
        resource = mapping_at(metric, "resource")
        current[str(resource.get("name"))] = mapping_at(resource, "current")
    shown = []
    for metric in mapping_at(hpa, "spec").get("metrics") or []:
        resource = mapping_at(metric, "resource")
        name, target = str(resource.get("name")), mapping_at(resource, "target")
        now = current.get(name, {}).get("averageUtilization")
        value = "<unknown>" if now is None else f"{now}%"
        shown.append(f"{name}: {value}/{target.get('averageUtilization', '?')}%")
    return ", ".join(shown) or "<none>"


def pod_row(pod: RawObject, now: float) -> list[str]:
    statuses = mapping_at(pod, "status").get("containerStatuses") or []
    containers = mapping_at(pod, "spec").get("containers") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount", 0)) for s in statuses)
    return [
        _name(pod),
        f"{ready}/{len(containers)}",
        pod_status(pod),
        str(restarts),
        age(pod, now),
        str(mapping_at(pod, "status").get("podIP") or "<none>"),
    ]


def pod_status(pod: RawObject) -> str:
    """kubectl's STATUS: Terminating, else a container's waiting or terminated reason,
    else the phase."""
    if metadata(pod).get("deletionTimestamp"):
        return "Terminating"
    status = mapping_at(pod, "status")
    shown = str(status.get("reason") or status.get("phase") or "Pending")
    for container in status.get("containerStatuses") or []:
        state = mapping_at(container, "state")
        for detail in (mapping_at(state, "waiting"), mapping_at(state, "terminated")):
            if detail.get("reason"):
                shown = str(detail["reason"])
    return shown


def age(obj: RawObject, now: float) -> str:
    """kubectl's AGE: ``45s``, ``3m20s`` under 10 minutes, ``42m``, ``5h``, ``3d``."""
    created = metadata(obj).get("creationTimestamp")
    if not isinstance(created, str):
        return "<unknown>"
    seconds = max(0, int(now - datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 600:
        return f"{seconds // 60}m{seconds % 60}s" if seconds % 60 else f"{seconds // 60}m"
    if seconds < 3 * 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h" if seconds < 48 * 3600 else f"{seconds // 86400}d"


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A kubectl-style table: left-aligned columns three spaces apart; '' without rows."""
    if not rows:
        return ""
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    lines = ["   ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [list(headers), *rows]]  # fmt: skip
    return "\n".join(lines)


def _name(obj: RawObject) -> str:
    meta = metadata(obj)
    namespace = meta.get("namespace")
    name = str(meta.get("name", ""))
    return name if namespace in (None, "", "default") else f"{namespace}/{name}"


def service_account_kubeconfig(
    admin_kubeconfig: Path, account: str, output: Path, *, request_timeout_s: float = 10.0
) -> Path:
    """Write to ``output`` a kubeconfig acting as ServiceAccount ``account``
    (``NAMESPACE/NAME``): the admin kubeconfig's server and authority, a token from a
    TokenRequest (``POST serviceaccounts/NAME/token``), the context's namespace NAMESPACE.
    ``ConfigError`` for a malformed or missing account (nothing written)."""
    namespace, _, name = account.partition("/")
    if not namespace or not name or "/" in name:
        raise ConfigError(
            f"--service-account {account!r}: expected NAMESPACE/NAME, e.g. shop/harness"
        )
    try:
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(admin_kubeconfig), persist_config=False
        )
        admin = yaml.safe_load(admin_kubeconfig.read_text())
    except (ConfigException, OSError, yaml.YAMLError) as error:
        raise SandboxError(f"cannot load kubeconfig {admin_kubeconfig}: {error}") from error
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))
    try:
        with api:
            answer = client.CoreV1Api(api).create_namespaced_service_account_token(
                name, namespace, request, _request_timeout=request_timeout_s
            )
    except ApiException as error:
        if error.status == 404:
            raise ConfigError(
                f"--service-account {account}: no ServiceAccount {name!r} in namespace "
                f"{namespace!r} of the sandbox; apply one with your manifests or "
                f"kubectl create serviceaccount {name} -n {namespace}"
            ) from error
        raise SandboxError(f"the sandbox refused a token for {account}: {error.reason}") from error
    except HTTPError as error:
        raise SandboxError(f"the sandbox API server did not answer: {error}") from error
    token = answer.status.token if answer.status is not None else None
    if not token:
        raise SandboxError(f"the sandbox answered a TokenRequest for {account} without a token")
    return _write_with_token(admin, str(token), namespace, output)


def _write_with_token(admin: Any, token: str, namespace: str, output: Path) -> Path:
    kubeconfig = dict(admin) if isinstance(admin, dict) else {}
    kubeconfig["users"] = [{**u, "user": {"token": token}} for u in kubeconfig.get("users", [])]
    kubeconfig["contexts"] = [
        {**c, "context": {**c.get("context", {}), "namespace": namespace}}
        for c in kubeconfig.get("contexts", [])
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(output, yaml.safe_dump(kubeconfig, sort_keys=False), PRIVATE_MODE)
    return output
