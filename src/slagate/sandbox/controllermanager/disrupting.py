"""The disruption controller: keeps each PodDisruptionBudget's status, which the eviction
API (``apiserver.evicting``) reads to allow or refuse an eviction.

Upstream's ``pkg/controller/disruption``, for the budgets the sandbox can meet:
- the pods are those of the budget's namespace its selector matches;
- ``minAvailable`` as a number: ``expectedPods`` = the pods found, ``desiredHealthy`` =
  the number; as a percentage, or ``maxUnavailable`` either way: ``expectedPods`` = the
  scale of the pods' controllers (a ReplicaSet owned by a Deployment counts the
  Deployment's replicas), and ``desiredHealthy`` = the percentage of it rounded up, or
  ``expectedPods`` minus ``maxUnavailable`` (a percentage rounded up);
- ``currentHealthy``: matching pods that are Ready, not terminating and not in
  ``disruptedPods`` (evictions the API granted but the controller has not yet seen take
  effect; an entry is dropped once its pod terminates or after 2 minutes);
- ``disruptionsAllowed`` = currentHealthy - desiredHealthy, never below 0, and 0 when no
  pod is expected; condition ``DisruptionAllowed`` (SufficientPods / InsufficientPods);
  ``observedGeneration``.
Pods of other controllers (StatefulSets, bare pods with a percentage budget) count by
what they are; the sandbox has no StatefulSet.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

from slagate.errors import NotFound
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.controllermanager.owners import Key, controller_name, key_of
from slagate.sandbox.controllermanager.reading import is_deleting, selecting_pod
from slagate.sandbox.controllermanager.reconciling import Controller, Wiring
from slagate.sandbox.controllermanager.writing import format_time
from slagate.sandbox.objects.bodies import (
    RawObject,
    is_pod_ready,
    mapping_at,
    metadata,
    name_of,
    parse_time,
)
from slagate.sandbox.objects.labelselectors import LabelSelector, selector_from_object
from slagate.sandbox.objects.resources import (
    POD_DISRUPTION_BUDGETS,
    PODS,
)
from slagate.sandbox.objects.selection import Selection

DELETION_TIMEOUT_S = 120.0
"""How long an eviction the API granted counts as a disruption before the pod is seen
terminating (upstream ``DeletionTimeout``)."""


def budget_selector(budget: RawObject) -> LabelSelector | None:
    raw = mapping_at(budget, "spec").get("selector")
    return selector_from_object(raw) if isinstance(raw, dict) else None


def scaled(value: Any, total: int) -> int:
    """An int-or-percent against ``total``, a percentage rounded up (upstream
    ``GetScaledValueFromIntOrPercent(..., roundUp=true)``)."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def budget_status(
    budget: RawObject, pods: Sequence[RawObject], controller_scale: int, now_s: float
) -> dict[str, Any]:
    """The status the controller writes: pure, from the pods and the controllers' scale."""
    spec = mapping_at(budget, "spec")
    minimum, maximum = spec.get("minAvailable"), spec.get("maxUnavailable")
    expected, desired = 0, 0
    if maximum is not None:
        expected = controller_scale
        desired = max(0, expected - scaled(maximum, expected))
    elif isinstance(minimum, str) and minimum.endswith("%"):
        expected = controller_scale
        desired = scaled(minimum, expected)
    elif minimum is not None:
        expected, desired = len(pods), int(minimum)
    disrupted = _still_disrupted(budget, pods, now_s)
    healthy = sum(
        1
        for pod in pods
        if is_pod_ready(pod) and not is_deleting(pod) and name_of(pod) not in disrupted
    )
    allowed = healthy - desired if expected > 0 else 0
    status: dict[str, Any] = {
        "observedGeneration": int(metadata(budget).get("generation", 1)),
        "disruptionsAllowed": max(0, allowed),
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [_condition(budget, allowed > 0, now_s)],
    }
    if disrupted:
        status["disruptedPods"] = disrupted
    return status


def _still_disrupted(budget: RawObject, pods: Sequence[RawObject], now_s: float) -> dict[str, str]:
    recorded = mapping_at(budget, "status").get("disruptedPods") or {}
    alive = {name_of(p) for p in pods if not is_deleting(p)}
    return {
        name: at
        for name, at in recorded.items()
        if name in alive and (parse_time(at) or 0.0) + DELETION_TIMEOUT_S > now_s
    }


def _condition(budget: RawObject, allowed: bool, now_s: float) -> dict[str, Any]:
    status, reason = ("True", "SufficientPods") if allowed else ("False", "InsufficientPods")
    old = next(
        (
            c
            for c in mapping_at(budget, "status").get("conditions") or []
            if isinstance(c, dict) and c.get("type") == "DisruptionAllowed"
        ),
        {},
    )
    since = old.get("lastTransitionTime") if old.get("status") == status else None
    return {
        "type": "DisruptionAllowed",
        "status": status,
        "reason": reason,
        "message": "",
        "observedGeneration": int(metadata(budget).get("generation", 1)),
        "lastTransitionTime": since or format_time(now_s),
    }


class DisruptionController(Controller):
    name = "disruption-controller"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring, wiring.informers.disruption_budgets)
        wiring.informers.disruption_budgets.add_handler(self._on_budget)
        wiring.informers.pods.add_handler(self._on_pod)
        wiring.informers.deployments.add_handler(self._on_scale)
        wiring.informers.replica_sets.add_handler(self._on_scale)

    def _on_budget(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        self.queue.add(key_of(obj))

    def _on_pod(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        budgets = self.informers.disruption_budgets.objects(key_of(obj)[0])
        for budget in selecting_pod(budgets, budget_selector, obj, old):
            self.queue.add(key_of(budget))

    def _on_scale(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        for budget in self.informers.disruption_budgets.objects(key_of(obj)[0]):
            self.queue.add(key_of(budget))

    def sync(self, key: Key) -> None:
        namespace, name = key
        try:
            budget = self.store.get(POD_DISRUPTION_BUDGETS, namespace, name)
        except NotFound:
            return
        selector = budget_selector(budget)
        pods = (
            self.store.list(Selection(PODS, namespace, labels=selector)).items
            if selector is not None
            else []
        )
        status = budget_status(budget, pods, self._controller_scale(pods), self.clock())
        if status.get("disruptedPods"):
            self.queue.add_after(key, DELETION_TIMEOUT_S)

        def write(current: RawObject) -> RawObject:
            current["status"] = status
            return current

        with contextlib.suppress(NotFound):
            self.store.modify(POD_DISRUPTION_BUDGETS, namespace, name, write, "status")

    def _controller_scale(self, pods: Sequence[RawObject]) -> int:
        """Replicas of the pods' controllers, each counted once; a bare pod counts 1."""
        seen: dict[tuple[str, str], int] = {}
        for pod in pods:
            namespace = key_of(pod)[0]
            owner = controller_name(pod, "ReplicaSet")
            if owner is None:
                seen[("Pod", name_of(pod))] = 1
                continue
            replica_set = self.informers.replica_sets.cached(namespace, owner)
            deployment = controller_name(replica_set, "Deployment") if replica_set else None
            if deployment is not None:
                scale_of = self.informers.deployments.cached(namespace, deployment)
                seen[("Deployment", deployment)] = _replicas(scale_of)
            else:
                seen[("ReplicaSet", owner)] = _replicas(replica_set)
        return sum(seen.values())


def _replicas(obj: RawObject | None) -> int:
    value = mapping_at(obj, "spec").get("replicas") if obj is not None else None
    return value if isinstance(value, int) else 0
