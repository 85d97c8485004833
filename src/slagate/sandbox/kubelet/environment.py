"""Container environment: ``env`` entries, ``fieldRef`` values, Service variables and
``$(VAR)`` expansion.

Upstream semantics (``third_party/forked/golang/expansion``): ``$(NAME)`` becomes the
value of an env entry defined before it or of a Service variable (for command and args:
any variable of the container), an undefined reference stays as written, ``$$`` is a
literal ``$``. Entries are resolved in order, so a value may use the ones above it.

Service variables (``enableServiceLinks``, on by default): for every Service of the
pod's namespace with a cluster IP, ``<NAME>_SERVICE_HOST``, ``<NAME>_SERVICE_PORT``,
``<NAME>_SERVICE_PORT_<PORT_NAME>`` and the Docker-link ``<NAME>_PORT*`` family, as
upstream's ``envvars.FromServices``. Cluster IPs lead nowhere in the sandbox, so where
the service proxy has published a Service's address (``status.loadBalancer.ingress``:
127.0.0.1 and one proxy port per TCP port, in order) the values are that address; the
names keep the Service's own port numbers. Like upstream, a container sees the Services
that exist when it starts. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from slagate.errors import ContainerStartError
from slagate.sandbox.kubelet.specs import EnvVar, KeyRef
from slagate.sandbox.objects.bodies import RawObject, labels_of, mapping_at, metadata

CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
_PLAIN_FIELDS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
"""Downward-API paths a ``fieldRef`` may name, besides labels and annotations."""


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Replace ``$(NAME)`` references in ``text`` as the kubelet does."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_name, advance = _read_reference(text[cursor + 1 :])
            out.append(variables.get(read, f"$({read})") if is_name else read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _read_reference(rest: str) -> tuple[str, bool, int]:
    """After a ``$``: (text read, whether it is a name, characters consumed)."""
    if rest[0] == "$":
        return "$", False, 1
    if rest[0] == "(":
        closing = rest.find(")", 1)
        if closing == -1:
            return "$(", False, 1
        return rest[1:closing], True, closing + 1
    return "$" + rest[0], False, 1


def resolve_env(
    env: Sequence[EnvVar],
    fields: Mapping[str, str],
    services: Mapping[str, str] | None = None,
    keys: Callable[[KeyRef], str | None] | None = None,
) -> dict[str, str]:
    """The container's variables: ``services`` (the Service variables of
    ``service_env``, then what ``envFrom`` brings) overlaid with its ``env`` list;
    ``fields`` maps fieldRef paths (``pod_fields``) to values, ``keys`` answers
    ConfigMap and Secret key references (None: an optional key that is missing).
    ``ContainerStartError`` (CreateContainerConfigError) for a source the sandbox does not
    have or an unknown field path."""
    resolved: dict[str, str] = {}
    base = dict(services or {})
    for var in env:
        if var.unsupported is not None:
            raise ContainerStartError(
                CREATE_CONTAINER_CONFIG_ERROR,
                f"env {var.name}: valueFrom.{var.unsupported} is not supported by the sandbox; "
                "use value, fieldRef, configMapKeyRef or secretKeyRef",
            )
        if var.key_ref is not None:
            value = keys(var.key_ref) if keys is not None else None
            if value is not None:
                resolved[var.name] = value
            continue
        if var.field_path is not None:
            if var.field_path not in fields:
                raise ContainerStartError(
                    CREATE_CONTAINER_CONFIG_ERROR,
                    f"env {var.name}: unsupported fieldRef.fieldPath {var.field_path!r}; "
                    f"supported: {', '.join(sorted(_PLAIN_FIELDS))}, metadata.labels['k'], "
                    "metadata.annotations['k']",
                )
            resolved[var.name] = fields[var.field_path]
        else:
            resolved[var.name] = expand(var.value or "", {**base, **resolved})
    return {**base, **resolved}


def service_env(services: Sequence[RawObject]) -> dict[str, str]:
    """The Service variables for a container in the namespace of ``services``."""
    env: dict[str, str] = {}
    for service in services:
        spec = mapping_at(service, "spec")
        cluster_ip = spec.get("clusterIP")
        ports = [p for p in spec.get("ports") or [] if isinstance(p, dict) and "port" in p]
        if not cluster_ip or cluster_ip == "None" or not ports:
            continue
        prefix = _variable_name(str(metadata(service).get("name", "")))
        addresses = _addresses(service, str(cluster_ip), ports)
        env[f"{prefix}_SERVICE_HOST"] = addresses[0][0]
        env[f"{prefix}_SERVICE_PORT"] = str(addresses[0][1])
        for port, (_, number) in zip(ports, addresses, strict=True):
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_variable_name(str(port['name']))}"] = str(number)
        for index, (port, (host, number)) in enumerate(zip(ports, addresses, strict=True)):
            protocol = str(port.get("protocol") or "TCP")
            url = f"{protocol.lower()}://{host}:{number}"
            if index == 0:
                env[f"{prefix}_PORT"] = url
            link = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
            env[link] = url
            env[f"{link}_PROTO"] = protocol.lower()
            env[f"{link}_PORT"] = str(number)
            env[f"{link}_ADDR"] = host
    return env


def _addresses(
    service: RawObject, cluster_ip: str, ports: list[dict[str, Any]]
) -> list[tuple[str, int]]:
    """(host, port) per Service port: the proxy's when published for every TCP port, else
    the cluster IP and the Service port."""
    upstream = [(cluster_ip, int(p["port"])) for p in ports]
    ingress = (mapping_at(service, "status", "loadBalancer").get("ingress") or [{}])[0]
    published = [int(p["port"]) for p in ingress.get("ports") or [] if "port" in p]
    tcp = [i for i, p in enumerate(ports) if str(p.get("protocol") or "TCP") == "TCP"]
    if not ingress.get("ip") or len(published) != len(tcp):
        return upstream
    for index, proxy_port in zip(tcp, published, strict=True):
        upstream[index] = (str(ingress["ip"]), proxy_port)
    return upstream


def _variable_name(name: str) -> str:
    return name.upper().replace("-", "_")


def pod_fields(pod: RawObject, pod_ip: str, host_ip: str, node_name: str) -> dict[str, str]:
    """Every downward-API field path a ``fieldRef`` may name, with its value."""
    meta = metadata(pod)
    fields = {
        "metadata.name": str(meta.get("name", "")),
        "metadata.namespace": str(meta.get("namespace", "")),
        "metadata.uid": str(meta.get("uid", "")),
        "spec.nodeName": node_name,
        "spec.serviceAccountName": str(mapping_at(pod, "spec").get("serviceAccountName", "")),
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
    }
    for key, value in labels_of(pod).items():
        fields[f"metadata.labels['{key}']"] = value
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key, value in annotations.items():
            fields[f"metadata.annotations['{key}']"] = str(value)
    return fields
