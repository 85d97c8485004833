"""Where the load goes: URLs and the Kubernetes side of the target."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    Field,
    field_validator,
)

from slagate.scenario.base import Duration, _Model

# --- target ------------------------------------------------------------------------------


class KubeTarget(_Model):
    """The cluster side of the target: what to watch and where actions may mutate."""

    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")] = "default"
    service: str | None = Field(
        default=None,
        description="Service whose load-balancer address becomes the host when no host is given.",
    )
    services: dict[str, str] = Field(
        default_factory=dict,
        description="Locustfile service name -> Kubernetes Service name (URLs resolved likewise).",
    )
    allow_mutations_in: list[str] = Field(
        default_factory=list,
        description="Namespaces where scenario actions may change the cluster (safety).",
    )


class Target(_Model):
    """Where the load goes. ``host`` is Locust's ``--host``; ``services`` are further base
    URLs the locustfile asks for by name (e.g. the product service of the shop)."""

    host: str | None = None
    kubernetes: KubeTarget | None = None
    services: dict[str, str] = Field(default_factory=dict)
    preflight_path: str = "/"
    preflight_timeout: Duration = 5.0

    @field_validator("host")
    @classmethod
    def _host_is_url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v)

    @field_validator("services")
    @classmethod
    def _services_are_urls(cls, v: dict[str, str]) -> dict[str, str]:
        return {name: _check_url(url) for name, url in v.items()}


def _check_url(url: str) -> str:
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
    return url.rstrip("/")
