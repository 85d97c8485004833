"""A kubeconfig pointing kubectl and the Kubernetes client at a sandbox API server.

HTTPS on loopback, trusting the server's own certificate authority
(``certificate-authority-data``), with the server's bearer token (``users[].user.token``):
the file is the credential, so it is written with mode 0600, like ``~/.kube/config``, and
only its path is ever shown or passed on a command line.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from slagate.files import PRIVATE_MODE, write_atomically

CONTEXT = "slagate-sandbox"


def kubeconfig_dict(
    server_url: str,
    *,
    token: str,
    authority: bytes | None = None,
    context: str = CONTEXT,
    namespace: str = "default",
) -> dict[str, Any]:
    """``authority``: the PEM of the certificate authority to trust (None: the system's)."""
    cluster: dict[str, str] = {"server": server_url}
    if authority is not None:
        cluster["certificate-authority-data"] = base64.b64encode(authority).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": namespace},
            }
        ],
        "current-context": context,
    }


def write_kubeconfig(
    path: Path,
    server_url: str,
    *,
    token: str,
    authority: bytes | None = None,
    context: str = CONTEXT,
    namespace: str = "default",
) -> Path:
    """Write the kubeconfig to ``path`` (parents created, mode 0600 from its first byte:
    never readable by others, not even for a moment) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config = kubeconfig_dict(
        server_url, token=token, authority=authority, context=context, namespace=namespace
    )
    write_atomically(path, yaml.safe_dump(config, sort_keys=False), PRIVATE_MODE)
    return path
