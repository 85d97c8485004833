"""ReplicaSet decisions: pod availability, ReplicaSet status, and which pods go first.

Pure: ``now_s`` is passed in. Upstream sources: ``IsPodAvailable`` (pkg/api/v1/pod),
the ReplicaSet controller's ``calculateStatus`` and ``manageReplicas``, and
``ActivePodsWithRanks`` (pkg/controller/controller_utils.go) for victim order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from slagate.sandbox.decisions.pods import PodPhase

BURST_REPLICAS = 500
_PHASE_ORDER = {PodPhase.PENDING: 0, PodPhase.UNKNOWN: 1, PodPhase.RUNNING: 2}


@dataclass(frozen=True)
class PodView:
    """A pod owned by a ReplicaSet, as the ReplicaSet controller sees it.

    ``ready_since_s`` is the Ready condition's lastTransitionTime when ``ready`` is True.
    ``scheduled``: spec.nodeName is set. ``restarts``: the highest container restartCount.
    ``deletion_cost``: the controller.kubernetes.io/pod-deletion-cost annotation.
    """

    name: str
    created_s: float
    phase: PodPhase = PodPhase.RUNNING
    ready: bool = False
    ready_since_s: float | None = None
    deleting: bool = False
    scheduled: bool = True
    restarts: int = 0
    deletion_cost: int = 0


@dataclass(frozen=True)
class ReplicaSetCounts:
    """``status`` of a ReplicaSet: replicas, readyReplicas, availableReplicas."""

    replicas: int
    ready: int
    available: int


@dataclass(frozen=True)
class ReplicaSetPlan:
    """What the ReplicaSet controller does this sync: create ``create`` pods, or delete
    ``delete`` (pod names, in deletion order)."""

    create: int
    delete: tuple[str, ...]


def is_available(pod: PodView, min_ready_s: float, now_s: float) -> bool:
    """Ready for at least ``min_ready_s`` seconds (upstream IsPodAvailable).

    ``minReadySeconds`` 0 means available as soon as Ready; otherwise the Ready transition
    must be ``min_ready_s`` or more ago (upstream compares ``<=`` since its table case
    "ready 51 s, minReadySeconds 51 -> available").
    """
    if not pod.ready:
        return False
    if min_ready_s == 0:
        return True
    return pod.ready_since_s is not None and pod.ready_since_s + min_ready_s <= now_s


def is_active(pod: PodView) -> bool:
    """Counts toward the ReplicaSet: not being deleted and not Succeeded/Failed."""
    finished = pod.phase in (PodPhase.SUCCEEDED, PodPhase.FAILED)
    return not pod.deleting and not finished


def replica_set_counts(
    pods: Sequence[PodView], min_ready_s: float, now_s: float
) -> ReplicaSetCounts:
    """ReplicaSet status from its pods. Terminating pods are not counted at all, which is
    why a rollout can briefly run more processes than replicas + maxSurge."""
    active = [p for p in pods if is_active(p)]
    return ReplicaSetCounts(
        len(active),
        sum(p.ready for p in active),
        sum(is_available(p, min_ready_s, now_s) for p in active),
    )


def plan_replica_set(spec_replicas: int, pods: Sequence[PodView]) -> ReplicaSetPlan:
    """Create or delete pods so the active count meets ``spec_replicas``.

    At most ``BURST_REPLICAS`` per sync, as upstream. Upstream also creates in slow-start
    batches (1, 2, 4, ...) to fail fast on quota errors; the sandbox has no quota, so it
    creates them at once.
    """
    active = [p for p in pods if is_active(p)]
    diff = len(active) - spec_replicas
    if diff < 0:
        return ReplicaSetPlan(min(-diff, BURST_REPLICAS), ())
    victims = deletion_order(active)[: min(diff, BURST_REPLICAS)]
    return ReplicaSetPlan(0, tuple(p.name for p in victims))


def deletion_order(pods: Sequence[PodView]) -> list[PodView]:
    """Pods sorted so the ones to delete first come first (upstream ActivePods ranking).

    1. unscheduled before scheduled; 2. Pending < Unknown < Running; 3. not ready before
    ready; 4. lower pod-deletion-cost first; 5. ready for less time before ready for
    longer; 6. more restarts first; 7. newer before older; then by name, for determinism.
    Simplified: upstream's step 5 "doubled up" rank (pods sharing a node) is skipped, the
    sandbox runs one node; and ready/creation times compare exactly instead of in the
    log2 buckets of LogarithmicScaleDown, which only randomises near-equal pods.
    """
    return sorted(pods, key=_deletion_key)


def _deletion_key(pod: PodView) -> tuple[bool, int, bool, int, float, int, float, str]:
    ready_since = 0.0
    if pod.ready:  # ready with no known time sorts first, like upstream's zero time
        ready_since = math.inf if pod.ready_since_s is None else pod.ready_since_s
    return (
        pod.scheduled,
        _PHASE_ORDER.get(pod.phase, 2),
        pod.ready,
        pod.deletion_cost,
        -ready_since,
        -pod.restarts,
        -pod.created_s,
        pod.name,
    )
