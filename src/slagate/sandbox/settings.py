"""Sandbox timings and sizes, named after the flags of the real components.

Defaults are upstream's; the packaged shop overlay (``manifests/sandbox-settings.yaml``,
``deploy/shop/sandbox`` in the repository) shortens them so that tests run fast without
changing the semantics.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields
from typing import Any

from slagate.errors import ConfigError
from slagate.numbers import MAX_DURATION_S


class DataPlane(enum.Enum):
    """What carries a Service's traffic between a client and its pods: the service proxy's
    profile (docs/sandbox.md, "Data-plane profiles").

    ``per-request``: every request picks a ready endpoint (fewest in flight), endpoint
    changes apply after exactly ``endpoint_propagation_delay_s``, terminating endpoints
    are never used: a mesh sidecar's balancing without its retries.
    ``kube-proxy``: kube-proxy in iptables or nftables mode. A client connection goes to
    one endpoint, picked at random when it opens, for its whole life; endpoint changes
    apply after the delay plus up to ``endpoint_propagation_jitter_s``; with no ready
    endpoint, new connections go to the serving-terminating ones.
    """

    PER_REQUEST = "per-request"
    KUBE_PROXY = "kube-proxy"

    @property
    def per_connection(self) -> bool:
        return self is DataPlane.KUBE_PROXY

    @property
    def terminating_fallback(self) -> bool:
        return self is DataPlane.KUBE_PROXY

    @property
    def jittered(self) -> bool:
        return self is DataPlane.KUBE_PROXY

    @classmethod
    def named(cls, name: object, source: str) -> DataPlane:
        """The profile called ``name``; ``ConfigError`` naming ``source`` and the valid ones."""
        for plane in cls:
            if plane.value == name:
                return plane
        valid = ", ".join(plane.value for plane in cls)
        raise ConfigError(f"{source}: unknown data plane {name!r}; valid: {valid}")


@dataclass(frozen=True)
class SandboxSettings:
    hpa_sync_period_s: float = 15.0
    """kube-controller-manager --horizontal-pod-autoscaler-sync-period."""

    hpa_tolerance: float = 0.1
    """--horizontal-pod-autoscaler-tolerance: no scaling while |ratio - 1| <= this."""

    hpa_cpu_initialization_period_s: float = 300.0
    """--horizontal-pod-autoscaler-cpu-initialization-period."""

    hpa_initial_readiness_delay_s: float = 30.0
    """--horizontal-pod-autoscaler-initial-readiness-delay."""

    hpa_downscale_stabilization_s: float = 300.0
    """--horizontal-pod-autoscaler-downscale-stabilization (used without spec.behavior)."""

    metrics_resolution_s: float = 15.0
    """metrics-server --metric-resolution: how often pod CPU is sampled (seconds)."""

    endpoint_propagation_delay_s: float = 1.0
    """Seconds between an EndpointSlice change and the proxy routing by it (kube-proxy,
    sidecars and load balancers all lag; this lag is what preStop delays must cover)."""

    endpoint_propagation_jitter_s: float = 1.0
    """Under the ``kube-proxy`` data plane, each endpoint change waits a further random
    0 to this many seconds: kube-proxy syncs its rules at most once per
    ``--iptables-min-sync-period`` (1 s by default), so a change waits up to that long for
    the next sync. Ignored by ``per-request``, whose delay is exact."""

    data_plane: DataPlane = DataPlane.PER_REQUEST
    """The service proxy's profile (``DataPlane``): ``per-request`` or ``kube-proxy``."""

    crashloop_backoff_initial_s: float = 10.0
    """kubelet's first restart back-off; doubles per crash up to the max."""

    crashloop_backoff_max_s: float = 300.0
    """kubelet's back-off cap."""

    image_pull_backoff_initial_s: float = 10.0
    """kubelet's back-off after a failed image pull (ImagePullBackOff); doubles per
    failed pull up to the max."""

    image_pull_backoff_max_s: float = 300.0
    """kubelet's image pull back-off cap."""

    watch_event_window: int = 10_000
    """Events kept for watches; older resourceVersions get 410 Expired."""

    bookmark_interval_s: float = 60.0
    """How often watches with allowWatchBookmarks get a BOOKMARK."""

    scrape_interval_s: float = 60.0
    """Prometheus' global ``scrape_interval``: how often the sandbox's Prometheus scrapes
    pods, the proxy, kube-state-metrics and cAdvisor (and refreshes its pod targets)."""

    @property
    def routing_delay_s(self) -> float:
        """The longest a Service's routing lags an EndpointSlice change under this data
        plane: the propagation delay, plus the jitter under ``kube-proxy``."""
        jitter = self.endpoint_propagation_jitter_s if self.data_plane.jittered else 0.0
        return self.endpoint_propagation_delay_s + jitter

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> SandboxSettings:
        """Build from a settings file's mapping; unknown or non-positive values are errors,
        and so is a ``data_plane`` that names no profile."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown sandbox setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {}
        if "data_plane" in data:
            values["data_plane"] = DataPlane.named(data["data_plane"], f"{source}: data_plane")
        for key, value in data.items():
            if key == "data_plane":
                continue
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{source}: {key} must be a finite number >= 0, got {value!r}")
            if key.endswith("_s") and value > MAX_DURATION_S:
                raise ConfigError(
                    f"{source}: {key} must be at most {MAX_DURATION_S:g} s (a day), got {value!r}"
                )
            values[key] = int(value) if key == "watch_event_window" else float(value)
        return cls(**values)
