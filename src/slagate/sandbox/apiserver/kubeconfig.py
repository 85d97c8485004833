"""A kubeconfig pointing kubectl and the Kubernetes client at a sandbox API server.

Plain HTTP on loopback with a dummy bearer token: the sandbox checks no credentials,
and the token is a fixed placeholder, so a kubeconfig or a report that shows it leaks
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONTEXT = "slagate-sandbox"
DUMMY_TOKEN = "slagate-sandbox-no-auth"


def kubeconfig_dict(
    server_url: str, *, context: str = CONTEXT, namespace: str = "default"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": server_url}}],
        "users": [{"name": context, "user": {"token": DUMMY_TOKEN}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": namespace},
            }
        ],
        "current-context": context,
    }


def write_kubeconfig(
    path: Path, server_url: str, *, context: str = CONTEXT, namespace: str = "default"
) -> Path:
    """Write the kubeconfig to ``path`` (parents created, mode 0600) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        kubeconfig_dict(server_url, context=context, namespace=namespace), sort_keys=False
    )
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
