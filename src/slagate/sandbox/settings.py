"""Sandbox timings and sizes, named after the flags of the real components.

Defaults are upstream's; the packaged shop overlay (``manifests/sandbox-settings.yaml``,
``deploy/shop/sandbox`` in the repository) shortens them so that tests run fast without
changing the semantics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from slagate.errors import ConfigError
from slagate.numbers import MAX_DURATION_S


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

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> SandboxSettings:
        """Build from a settings file's mapping; unknown or non-positive values are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown sandbox setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        for key, value in data.items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{source}: {key} must be a finite number >= 0, got {value!r}")
            if key.endswith("_s") and value > MAX_DURATION_S:
                raise ConfigError(
                    f"{source}: {key} must be at most {MAX_DURATION_S:g} s (a day), got {value!r}"
                )
        values: dict[str, Any] = {
            k: (int(v) if k == "watch_event_window" else float(v)) for k, v in data.items()
        }
        return cls(**values)
