"""Sandbox timings and sizes, named after the flags of the real components.

Defaults are upstream's. A named **timing** setting sets every controller and kubelet
timing at once (``TIMINGS``): ``real-time`` is upstream's clock (15 s HPA sync and metrics
resolution, 300 s scale-down stabilization, ...), ``compressed`` the short clock the
packaged shop overlay runs with (``manifests/sandbox-settings.yaml``, ``deploy/shop/sandbox``
in the repository says ``timing: compressed``), so that tests run fast without changing the
semantics. A settings file names one with ``timing:`` and may set single timings apart from
it; ``--timing NAME`` (``slagate sandbox up``, ``slagate run --sandbox``) replaces the
file's name. Probe periods, preStop and grace periods are not settings: they are the
manifests' own. ``DataPlane`` names what the service proxy does (``data_plane:``,
``--data-plane``).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields
from typing import Any

from slagate.errors import ConfigError
from slagate.numbers import MAX_DURATION_S
from slagate.sandbox.targetgroups import SETTINGS as TARGET_GROUP_SETTINGS
from slagate.sandbox.targetgroups import TargetGroupTiming, target_group_timing
from slagate.scenario import parse_duration
from slagate.timeline import SandboxProfile

REAL_TIME = "real-time"
COMPRESSED = "compressed"
TIMINGS: dict[str, dict[str, float]] = {
    REAL_TIME: {  # upstream's defaults: the same clock as a real cluster
        "hpa_sync_period_s": 15.0,
        "metrics_resolution_s": 15.0,
        "hpa_cpu_initialization_period_s": 300.0,
        "hpa_initial_readiness_delay_s": 30.0,
        "hpa_downscale_stabilization_s": 300.0,
        "crashloop_backoff_initial_s": 10.0,
        "crashloop_backoff_max_s": 300.0,
        "image_pull_backoff_initial_s": 10.0,
        "image_pull_backoff_max_s": 300.0,
        "pod_scheduling_delay_s": 0.1,
        "image_pull_delay_s": 2.0,
        "pod_start_delay_s": 0.5,
        "node_provisioning_delay_s": 60.0,
    },
    COMPRESSED: {  # the same decisions on a shorter clock (docs/sandbox.md, "Timings")
        "hpa_sync_period_s": 2.0,
        "metrics_resolution_s": 2.0,
        "hpa_cpu_initialization_period_s": 10.0,
        "hpa_initial_readiness_delay_s": 5.0,
        "hpa_downscale_stabilization_s": 15.0,
        "crashloop_backoff_initial_s": 2.0,
        "crashloop_backoff_max_s": 20.0,
        "image_pull_backoff_initial_s": 2.0,
        "image_pull_backoff_max_s": 20.0,
        "pod_scheduling_delay_s": 0.05,
        "image_pull_delay_s": 0.2,
        "pod_start_delay_s": 0.1,
        "node_provisioning_delay_s": 20.0,
    },
}
"""Named timing settings: each sets every controller and kubelet timing (seconds)."""


def check_timing(name: str, source: str) -> dict[str, float]:
    """The timings of the named setting; ``ConfigError`` naming ``name``, where it came
    from and the valid names."""
    if name not in TIMINGS:
        raise ConfigError(f"{source}: unknown timing {name!r}; valid: {', '.join(sorted(TIMINGS))}")
    return TIMINGS[name]


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
    ``istio``: an Istio sidecar (Envoy): per-request least-request balancing as
    ``per-request``, plus the mesh's default retry policy and the DestinationRules'
    ``outlierDetection``, read from the sandbox API, whose Istio CRDs it installs.
    ``aws-alb`` / ``aws-nlb``: the AWS Load Balancer Controller with IP targets
    (``targetgroups``): a pod gets requests once its target passed the health checks and
    keeps getting new ones for the deregistration propagation after it left the ready
    endpoints; the ALB balances per request, the NLB per connection.
    """

    PER_REQUEST = "per-request"
    KUBE_PROXY = "kube-proxy"
    ISTIO = "istio"
    AWS_ALB = "aws-alb"
    AWS_NLB = "aws-nlb"

    @property
    def per_connection(self) -> bool:
        return self in (DataPlane.KUBE_PROXY, DataPlane.AWS_NLB)

    @property
    def load_balancer(self) -> bool:
        """A cloud load balancer whose target group registers pods (``targetgroups``)."""
        return self in (DataPlane.AWS_ALB, DataPlane.AWS_NLB)

    @property
    def terminating_fallback(self) -> bool:
        return self is DataPlane.KUBE_PROXY

    @property
    def mesh(self) -> bool:
        """Whether the proxy acts as an Istio sidecar (retries, DestinationRules)."""
        return self is DataPlane.ISTIO

    def jitter_s(self, configured_s: float) -> float:
        """The jitter this data plane adds to endpoint changes, given the configured
        ``endpoint_propagation_jitter_s``: all of it under ``kube-proxy``, none otherwise."""
        return configured_s if self is DataPlane.KUBE_PROXY else 0.0

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
    """The service proxy's profile (``DataPlane``): ``per-request``, ``kube-proxy``,
    ``istio``, ``aws-alb`` or ``aws-nlb``."""

    health_check_interval_s: float | None = None
    """``aws-alb``/``aws-nlb``: the target group's ``HealthCheckIntervalSeconds``; None:
    the data plane's default on this timing (``targetgroups.DEFAULTS``)."""

    healthy_threshold_count: float | None = None
    """``aws-alb``/``aws-nlb``: the target group's ``HealthyThresholdCount`` (whole, >= 1)."""

    deregistration_propagation_s: float | None = None
    """``aws-alb``/``aws-nlb``: how long a pod that left the ready endpoints still gets new
    requests from the load balancer."""

    deregistration_delay_s: float | None = None
    """``aws-alb``/``aws-nlb``: the target group's ``deregistration_delay.timeout_seconds``."""

    crashloop_backoff_initial_s: float = 10.0
    """kubelet's first restart back-off; doubles per crash up to the max."""

    crashloop_backoff_max_s: float = 300.0
    """kubelet's back-off cap."""

    image_pull_backoff_initial_s: float = 10.0
    """kubelet's back-off after a failed image pull (ImagePullBackOff); doubles per
    failed pull up to the max."""

    image_pull_backoff_max_s: float = 300.0
    """kubelet's image pull back-off cap."""

    pod_scheduling_delay_s: float = 0.1
    """Seconds from a pod's creation to its binding when it fits a node: the scheduler's
    queue and cycle (upstream's scheduling SLI is tens of milliseconds per pod; the
    scalability SLO allows 5 s for pod start-up without image pulls)."""

    image_pull_delay_s: float = 2.0
    """Seconds a bound pod spends pulling its image before its containers are created
    (``Pulling`` to ``Pulled``): a few seconds for a small image from a registry in the
    same region, 0 when the node has it cached (``IfNotPresent``)."""

    pod_start_delay_s: float = 0.5
    """Seconds from the image being there to the container process running (sandbox and
    runtime set-up: the pause container, the CNI, ``runc create``)."""

    node_cpu_m: int = 0
    """Allocatable CPU of each node in millicores; a pod is bound only if its CPU requests
    fit beside those already bound there. 0: unlimited (no capacity model)."""

    node_max_pods: int = 110
    """Allocatable pods of each node (the kubelet's ``--max-pods``, 110 by default)."""

    max_nodes: int = 1
    """How many nodes the sandbox may have. Above 1, Pending pods that fit no node make a
    new node appear after ``node_provisioning_delay_s``, as Cluster Autoscaler or Karpenter
    do, up to this many."""

    node_provisioning_delay_s: float = 60.0
    """Seconds from the first unschedulable pod to a new node being Ready (a cloud
    instance's launch and boot plus the kubelet's registration: about a minute with
    Karpenter, one to several with Cluster Autoscaler)."""

    watch_event_window: int = 10_000
    """Events kept for watches; older resourceVersions get 410 Expired."""

    bookmark_interval_s: float = 60.0
    """How often watches with allowWatchBookmarks get a BOOKMARK."""

    scrape_interval_s: float = 60.0
    """Prometheus' global ``scrape_interval``: how often the sandbox's Prometheus scrapes
    pods, the proxy, kube-state-metrics and cAdvisor (and refreshes its pod targets)."""

    timing: str = REAL_TIME
    """The named timing setting (``TIMINGS``) the timings above started from."""

    def __post_init__(self) -> None:
        check_timing(self.timing, "sandbox settings")
        _ = self.target_group  # refuses a bad HealthyThresholdCount now, not in the proxy

    @property
    def target_group(self) -> TargetGroupTiming | None:
        """The target group's timings under ``aws-alb``/``aws-nlb`` (the data plane's
        defaults on this timing, with the values set apart); None under other data planes."""
        if not self.data_plane.load_balancer:
            return None
        values = {key: getattr(self, key) for key in TARGET_GROUP_SETTINGS}
        overrides = {key: float(value) for key, value in values.items() if value is not None}
        return target_group_timing(self.data_plane.value, self.timing, overrides)

    @classmethod
    def timed(cls, name: str, source: str = "timing") -> SandboxSettings:
        """Upstream's settings on the named timing's clock (``ConfigError`` if unknown)."""
        return cls.from_mapping({"timing": name}, source)

    @property
    def routing_delay_s(self) -> float:
        """The longest a Service's routing lags an EndpointSlice change under this data
        plane: the propagation delay, plus the jitter under ``kube-proxy``; behind a load
        balancer the longer of a new target's registration and an old one's
        deregistration propagation."""
        group = self.target_group
        if group is not None:
            return max(group.registration_s, group.deregistration_propagation_s)
        return self.endpoint_propagation_delay_s + self._jitter_s

    @property
    def _jitter_s(self) -> float:
        return self.data_plane.jitter_s(self.endpoint_propagation_jitter_s)

    @property
    def profile(self) -> SandboxProfile:
        """The timings and the data plane in force, as runs and ``status`` show them."""
        timings = {key: float(getattr(self, key)) for key in TIMINGS[self.timing]}
        return SandboxProfile(
            timing=self.timing,
            overridden=[k for k, v in timings.items() if v != TIMINGS[self.timing][k]],
            timings=timings,
            data_plane=self.data_plane.value,
            endpoint_propagation_delay_s=self.endpoint_propagation_delay_s,
            endpoint_propagation_jitter_s=self._jitter_s,
            capacity=self._capacity,
            target_group=group.as_settings() if (group := self.target_group) else None,
            hpa_tolerance=self.hpa_tolerance,
            scrape_interval_s=self.scrape_interval_s,
        )

    @property
    def _capacity(self) -> str:
        """The node model in words, empty for the default (one node of unlimited CPU and
        110 pods)."""
        default_pods = SandboxSettings.node_max_pods
        if not self.node_cpu_m and self.max_nodes <= 1 and self.node_max_pods == default_pods:
            return ""
        cpu = f"{self.node_cpu_m}m CPU" if self.node_cpu_m else "unlimited CPU"
        text = f"nodes of {cpu} and {self.node_max_pods} pods"
        if self.max_nodes <= 1:
            return f"{text}, 1 node"
        delay = self.node_provisioning_delay_s
        return f"{text}, up to {self.max_nodes}, a new one {delay:g} s after a pod found no room"

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> SandboxSettings:
        """Build from a settings file's mapping: ``timing`` (a name, default ``real-time``)
        sets every timing, ``data_plane`` names the proxy's profile, other keys set one
        value each (a ``_s`` key also takes a duration: ``5s``, ``500ms``); unknown keys,
        unknown names and negative values are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown sandbox setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        name = data.get("timing", REAL_TIME)
        if not isinstance(name, str):
            valid = ", ".join(sorted(TIMINGS))
            raise ConfigError(f"{source}: timing must be a name, got {name!r}; valid: {valid}")
        timings = check_timing(name, f"{source}: timing")
        named: dict[str, Any] = {"timing": name}
        if "data_plane" in data:
            named["data_plane"] = DataPlane.named(data["data_plane"], f"{source}: data_plane")
        values = {
            key: _number(key, value, source) for key, value in data.items() if key not in named
        }
        numbers: dict[str, Any] = timings | {
            k: (int(v) if k in _COUNTS else float(v)) for k, v in values.items()
        }
        return cls(**numbers, **named)


_COUNTS = ("watch_event_window", "node_cpu_m", "node_max_pods", "max_nodes")
"""Settings that are whole numbers."""


def _number(key: str, value: Any, source: str) -> Any:
    """``value`` checked, a duration (``5s``, ``500ms``) of a ``_s`` key in seconds; a
    whole-number setting (``_COUNTS``) refuses a fraction rather than cutting it."""
    fraction = isinstance(value, float) and math.isfinite(value) and not value.is_integer()
    if key in _COUNTS and fraction:
        raise ConfigError(f"{source}: {key} must be a whole number >= 0, got {value!r}")
    if key.endswith("_s") and isinstance(value, str):
        try:
            value = parse_duration(value)
        except ValueError as error:
            raise ConfigError(f"{source}: {key}: {error}") from error
    _check_number(key, value, source)
    return value


def _check_number(key: str, value: Any, source: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{source}: {key} must be a finite number >= 0, got {value!r}")
    if key.endswith("_s") and value > MAX_DURATION_S:
        raise ConfigError(
            f"{source}: {key} must be at most {MAX_DURATION_S:g} s (a day), got {value!r}"
        )
