"""HPA normalization: stabilization windows, scaling policies and the legacy path.

Upstream ``horizontal.go`` keeps per-HPA recommendations and scale events in controller
memory; here that memory is an immutable ``HPAMemory`` value passed in and returned, so a
decision is a pure function of its inputs (no clock reads: ``now_s`` is given).

Window edges follow upstream exactly: the behavior path counts recommendations and events
strictly newer than ``now - window`` (Go ``After``), the legacy path counts those not older
than it (Go ``!Before``). Upstream overwrites one stale entry per sync; here every entry no
window can read any more is dropped, which leaves every decision the same.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class PolicyType(enum.Enum):
    """``HPAScalingPolicy.type``."""

    PODS = "Pods"
    PERCENT = "Percent"


class SelectPolicy(enum.Enum):
    """``HPAScalingRules.selectPolicy``: Max allows the largest change, Min the smallest."""

    MAX = "Max"
    MIN = "Min"
    DISABLED = "Disabled"


@dataclass(frozen=True)
class ScalingPolicy:
    """Change by at most ``value`` pods (or percent) per ``period_s`` seconds."""

    type: PolicyType
    value: int
    period_s: int


@dataclass(frozen=True)
class ScalingRules:
    """``spec.behavior.scaleUp`` / ``scaleDown`` as written: None fields get the defaults."""

    stabilization_window_s: int | None = None
    select_policy: SelectPolicy | None = None
    policies: tuple[ScalingPolicy, ...] | None = None


@dataclass(frozen=True)
class Behavior:
    """``spec.behavior``. An HPA without one takes the legacy path, not these defaults."""

    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


@dataclass(frozen=True)
class ResolvedRules:
    """Scaling rules with every default applied (autoscaling/v2 ``defaults.go``)."""

    stabilization_window_s: float
    select_policy: SelectPolicy
    policies: tuple[ScalingPolicy, ...]


@dataclass(frozen=True)
class Recommendation:
    """A raw (unstabilized) proposal recorded at ``at_s``."""

    replicas: int
    at_s: float


@dataclass(frozen=True)
class ScaleEvent:
    """A rescale by ``change`` pods (always positive) at ``at_s``, for rate limits."""

    change: int
    at_s: float


@dataclass(frozen=True)
class HPAMemory:
    """What the HPA controller remembers about one HPA between syncs.

    Empty recommendations mean a fresh controller: the first sync records the current
    count, which is why a restarted kube-controller-manager does not scale down for one
    stabilization window.
    """

    recommendations: tuple[Recommendation, ...] = ()
    scale_ups: tuple[ScaleEvent, ...] = ()
    scale_downs: tuple[ScaleEvent, ...] = ()


@dataclass(frozen=True)
class Bounds:
    """The range the HPA may scale in, and the count it scales from."""

    current: int
    min_replicas: int
    max_replicas: int


@dataclass(frozen=True)
class Normalized:
    """A normalized recommendation with the AbleToScale and ScalingLimited reasons."""

    replicas: int
    memory: HPAMemory
    able_reason: str
    able_message: str
    limited: bool
    limit_reason: str
    limit_message: str


SCALE_UP_DEFAULT = ResolvedRules(
    0.0,
    SelectPolicy.MAX,
    (ScalingPolicy(PolicyType.PODS, 4, 15), ScalingPolicy(PolicyType.PERCENT, 100, 15)),
)
SCALE_DOWN_POLICIES_DEFAULT = (ScalingPolicy(PolicyType.PERCENT, 100, 15),)
LEGACY_SCALE_UP_FACTOR = 2.0
LEGACY_SCALE_UP_MINIMUM = 4.0

_READY = ("ReadyForNewScale", "recommended size matches current size")
_UP_STABILIZED = (
    "ScaleUpStabilized",
    "recent recommendations were lower than current one, applying the lowest recent recommendation",
)
_DOWN_STABILIZED = (
    "ScaleDownStabilized",
    "recent recommendations were higher than current one, applying the highest recent "
    "recommendation",
)
_WITHIN = ("DesiredWithinRange", "the desired count is within the acceptable range")
_UP_LIMIT = (
    "ScaleUpLimit",
    "the desired replica count is increasing faster than the maximum scale rate",
)
_DOWN_LIMIT = (
    "ScaleDownLimit",
    "the desired replica count is decreasing faster than the maximum scale rate",
)
_TOO_MANY = ("TooManyReplicas", "the desired replica count is more than the maximum replica count")
_TOO_FEW = ("TooFewReplicas", "the desired replica count is less than the minimum replica count")


def resolve_scale_up(rules: ScalingRules | None) -> ResolvedRules:
    """ScaleUp defaults: no stabilization, Max of 4 pods or 100% per 15 s."""
    return _overlay(rules, SCALE_UP_DEFAULT)


def resolve_scale_down(
    rules: ScalingRules | None, downscale_stabilization_s: float
) -> ResolvedRules:
    """ScaleDown defaults: the controller's downscale stabilization, Max of 100% per 15 s."""
    base = ResolvedRules(downscale_stabilization_s, SelectPolicy.MAX, SCALE_DOWN_POLICIES_DEFAULT)
    return _overlay(rules, base)


def _overlay(rules: ScalingRules | None, base: ResolvedRules) -> ResolvedRules:
    """Copy the non-None fields of ``rules`` over ``base`` (upstream copyHPAScalingRules)."""
    if rules is None:
        return base
    window = rules.stabilization_window_s
    return ResolvedRules(
        base.stabilization_window_s if window is None else float(window),
        rules.select_policy or base.select_policy,
        base.policies if rules.policies is None else rules.policies,
    )


def record_initial(memory: HPAMemory, current: int, now_s: float) -> HPAMemory:
    """Seed a fresh memory with the current count (upstream recordInitialRecommendation)."""
    if memory.recommendations:
        return memory
    return HPAMemory((Recommendation(current, now_s),), memory.scale_ups, memory.scale_downs)


def normalize_legacy(
    bounds: Bounds, desired: int, memory: HPAMemory, now_s: float, window_s: float
) -> Normalized:
    """The no-behavior path: max over the downscale window, then a scale-up cap of
    ``max(2 * current, 4)`` per sync (upstream normalizeDesiredReplicas)."""
    cutoff = now_s - window_s
    kept = tuple(r for r in memory.recommendations if r.at_s >= cutoff)
    stabilized = max([desired, *(r.replicas for r in kept)])
    able = _DOWN_STABILIZED if stabilized != desired else _READY
    replicas, limit = _legacy_limits(bounds, stabilized)
    new_memory = HPAMemory(
        (*kept, Recommendation(desired, now_s)), memory.scale_ups, memory.scale_downs
    )
    return Normalized(replicas, new_memory, *able, replicas != stabilized, *limit)


def _legacy_limits(bounds: Bounds, desired: int) -> tuple[int, tuple[str, str]]:
    """Upstream convertDesiredReplicasWithRules."""
    scale_up_limit = int(max(LEGACY_SCALE_UP_FACTOR * bounds.current, LEGACY_SCALE_UP_MINIMUM))
    if bounds.max_replicas > scale_up_limit:
        ceiling, reason = scale_up_limit, _UP_LIMIT
    else:
        ceiling, reason = bounds.max_replicas, _TOO_MANY
    if desired < bounds.min_replicas:
        return bounds.min_replicas, _TOO_FEW
    if desired > ceiling:
        return ceiling, reason
    return desired, _WITHIN


def normalize_with_behavior(
    bounds: Bounds,
    desired: int,
    memory: HPAMemory,
    now_s: float,
    rules: tuple[ResolvedRules, ResolvedRules],
) -> Normalized:
    """The behavior path: stabilize (up = min, down = max over their windows), then apply
    the scaling policies (upstream normalizeDesiredReplicasWithBehaviors).

    ``rules`` is (scaleUp, scaleDown), resolved.
    """
    up, down = rules
    stabilized, new_memory = _stabilize(bounds.current, desired, memory, now_s, up, down)
    if stabilized == desired:
        able = _READY
    else:
        able = _UP_STABILIZED if desired >= bounds.current else _DOWN_STABILIZED
    replicas, limit = _rate_limits(bounds, stabilized, new_memory, now_s, rules)
    return Normalized(replicas, new_memory, *able, replicas != stabilized, *limit)


def _stabilize(
    current: int,
    desired: int,
    memory: HPAMemory,
    now_s: float,
    up: ResolvedRules,
    down: ResolvedRules,
) -> tuple[int, HPAMemory]:
    """Clamp ``current`` into [min over the up window, max over the down window]."""
    up_cut, down_cut = now_s - up.stabilization_window_s, now_s - down.stabilization_window_s
    recs = memory.recommendations
    up_rec = min([desired, *(r.replicas for r in recs if r.at_s > up_cut)])
    down_rec = max([desired, *(r.replicas for r in recs if r.at_s > down_cut)])
    kept = tuple(r for r in recs if r.at_s >= min(up_cut, down_cut))
    new_memory = HPAMemory(
        (*kept, Recommendation(desired, now_s)), memory.scale_ups, memory.scale_downs
    )
    return min(max(current, up_rec), down_rec), new_memory


def _rate_limits(
    bounds: Bounds,
    desired: int,
    memory: HPAMemory,
    now_s: float,
    rules: tuple[ResolvedRules, ResolvedRules],
) -> tuple[int, tuple[str, str]]:
    """Upstream convertDesiredReplicasWithBehaviorRate."""
    if desired > bounds.current:
        limit = max(scale_up_limit(bounds.current, memory, now_s, rules[0]), bounds.current)
        ceiling = min(bounds.max_replicas, limit)
        reason = _UP_LIMIT if bounds.max_replicas > limit else _TOO_MANY
        return (ceiling, reason) if desired > ceiling else (desired, _WITHIN)
    if desired < bounds.current:
        limit = min(scale_down_limit(bounds.current, memory, now_s, rules[1]), bounds.current)
        floor = max(bounds.min_replicas, limit)
        reason = _DOWN_LIMIT if bounds.min_replicas < limit else _TOO_FEW
        return (floor, reason) if desired < floor else (desired, _WITHIN)
    return desired, _WITHIN


def period_start(current: int, memory: HPAMemory, now_s: float, period_s: int) -> int:
    """The replica count at the start of the policy period: current, minus what was added
    and plus what was removed strictly within the last ``period_s`` seconds."""
    cutoff = now_s - period_s
    added = sum(e.change for e in memory.scale_ups if e.at_s > cutoff)
    removed = sum(e.change for e in memory.scale_downs if e.at_s > cutoff)
    return current - added + removed


def scale_up_limit(current: int, memory: HPAMemory, now_s: float, rules: ResolvedRules) -> int:
    """The most replicas the scaleUp policies allow now (Disabled: ``current``)."""
    if rules.select_policy is SelectPolicy.DISABLED:
        return current
    proposals = [
        _up_proposal(p, period_start(current, memory, now_s, p.period_s)) for p in rules.policies
    ]
    pick = min if rules.select_policy is SelectPolicy.MIN else max
    return pick(proposals) if proposals else current


def _up_proposal(policy: ScalingPolicy, start: int) -> int:
    """Pods: start + v; Percent: ceil(start * (1 + v/100)), rounded up so it always moves."""
    if policy.type is PolicyType.PODS:
        return start + policy.value
    return math.ceil(start * (1 + policy.value / 100))


def scale_down_limit(current: int, memory: HPAMemory, now_s: float, rules: ResolvedRules) -> int:
    """The fewest replicas the scaleDown policies allow now (Disabled: ``current``)."""
    if rules.select_policy is SelectPolicy.DISABLED:
        return current
    proposals = [
        _down_proposal(p, period_start(current, memory, now_s, p.period_s)) for p in rules.policies
    ]
    pick = max if rules.select_policy is SelectPolicy.MIN else min
    return pick(proposals) if proposals else current


def _down_proposal(policy: ScalingPolicy, start: int) -> int:
    """Pods: start - v; Percent: int(start * (1 - v/100)), truncated toward zero."""
    if policy.type is PolicyType.PODS:
        return start - policy.value
    return int(start * (1 - policy.value / 100))


def store_scale_event(
    memory: HPAMemory,
    previous: int,
    new: int,
    now_s: float,
    rules: tuple[ResolvedRules, ResolvedRules],
) -> HPAMemory:
    """Remember a rescale for the rate limits (upstream storeScaleEvent).

    Events older than every policy period are dropped; both directions' periods count,
    since scale-up events also move the period start of scale-down policies.
    """
    up = new > previous
    keep_s = max(_longest_period(rules[0]), _longest_period(rules[1]))
    events = memory.scale_ups if up else memory.scale_downs
    kept = tuple(e for e in events if e.at_s >= now_s - keep_s)
    added = (*kept, ScaleEvent(abs(new - previous), now_s))
    if up:
        return HPAMemory(memory.recommendations, added, memory.scale_downs)
    return HPAMemory(memory.recommendations, memory.scale_ups, added)


def _longest_period(rules: ResolvedRules) -> int:
    return max((p.period_s for p in rules.policies), default=0)
