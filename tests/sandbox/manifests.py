"""Manifests the sandbox API tests create, written as a user would write them."""

from __future__ import annotations

from typing import Any


def deployment(
    name: str = "web",
    replicas: int = 2,
    labels: dict[str, str] | None = None,
    image: str = "shop:1",
) -> dict[str, Any]:
    """A minimal valid Deployment manifest as the user would write it."""
    pod_labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": pod_labels},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "MODE", "value": "a"}],
                        },
                        {"name": "sidecar", "image": "proxy:1"},
                    ]
                },
            },
        },
    }


def pod(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "shop:1"}]},
    }
