"""The ports file: which loopback port serves which Service port (proxy -> daemon).

The proxy rewrites it atomically (temporary file, then ``os.replace``) whenever a
listener opens or closes; the daemon polls it and publishes each port on its Service
(``status.loadBalancer.ingress`` and the ``sandbox.slagate.io/url`` annotation), and
hands ``metricsPort`` (the proxy's own ``/metrics``) to Prometheus::

    {"pid": 4242, "metricsPort": 40100, "services": [{"namespace": "default",
      "name": "order", "ports": [{"name": "http", "port": 80, "proxyPort": 40123}]}]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slagate.errors import SandboxError
from slagate.sandbox.proxy.topology import ServiceKey


@dataclass(frozen=True)
class PublishedPort:
    """A Service port (``name``, ``port``) and the loopback port serving it."""

    name: str
    port: int
    proxy_port: int


PortMap = Mapping[ServiceKey, tuple[PublishedPort, ...]]


def write_ports_file(
    path: Path, ports: PortMap, pid: int | None = None, metrics_port: int | None = None
) -> None:
    """Replace ``path`` with ``ports`` in one atomic step (readers never see half a file)."""
    services = [
        {
            "namespace": key.namespace,
            "name": key.name,
            "ports": [{"name": p.name, "port": p.port, "proxyPort": p.proxy_port} for p in items],
        }
        for key, items in sorted(ports.items())
    ]
    document: dict[str, Any] = {"pid": os.getpid() if pid is None else pid}
    if metrics_port is not None:
        document["metricsPort"] = metrics_port
    document["services"] = services
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def read_ports_file(path: Path) -> dict[ServiceKey, tuple[PublishedPort, ...]]:
    """The map in ``path``; empty if the file does not exist yet."""
    document = _document(path)
    if document is None:
        return {}
    try:
        return {
            ServiceKey(entry["namespace"], entry["name"]): tuple(
                _published(port) for port in entry["ports"]
            )
            for entry in document["services"]
        }
    except (KeyError, TypeError) as error:
        raise SandboxError(f"the proxy ports file {path} is malformed: {error!r}") from error


def _published(raw: dict[str, Any]) -> PublishedPort:
    return PublishedPort(str(raw["name"]), int(raw["port"]), int(raw["proxyPort"]))


def read_metrics_port(path: Path) -> int | None:
    """The port of the proxy's ``/metrics`` in ``path``; None before the proxy wrote it."""
    document = _document(path)
    port = document.get("metricsPort") if document is not None else None
    return port if isinstance(port, int) and not isinstance(port, bool) else None


def _document(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise SandboxError(f"cannot read the proxy ports file {path}: {error}") from error
    if not isinstance(document, dict):
        raise SandboxError(f"the proxy ports file {path} is malformed: not an object")
    return document
