"""``POST pods/NAME/eviction``: a graceful pod delete that honours PodDisruptionBudgets.

What ``kubectl drain`` posts, and upstream's rules for it
(``pkg/registry/core/pod/storage/eviction.go``):
- a pod that already finished (Succeeded, Failed) or is already terminating, or that no
  budget selects, is deleted at once;
- a pod selected by more than one budget: 500, "This pod has more than one
  PodDisruptionBudget, which the eviction subresource does not support.";
- a budget whose status has not caught up with its spec (``observedGeneration`` behind
  ``generation``): 429, "... is still being processed by the server.";
- a pod that is not Ready, while the budget holds (``currentHealthy >= desiredHealthy``):
  deleted without counting against the budget (``unhealthyPodEvictionPolicy``
  IfHealthyBudget, the default);
- ``disruptionsAllowed`` 0: 429 TooManyRequests, "Cannot evict pod as it would violate the
  pod's disruption budget.", with a DisruptionBudget cause naming the healthy counts;
- else the budget's ``disruptionsAllowed`` is decremented and the pod recorded in
  ``status.disruptedPods`` (one atomic status write, so two concurrent evictions cannot
  both take the last disruption), then the pod is deleted with the eviction's
  DeleteOptions (the kubelet's graceful termination follows).
The budgets' status itself is the disruption controller's (``controllermanager``).
"""

from __future__ import annotations

from typing import Any

from slagate.errors import BadRequest, InternalError, StatusDetails, TooManyRequests
from slagate.sandbox.apiserver.deleting import DeleteOptions
from slagate.sandbox.apiserver.statuses import success_status
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.bodies import (
    RawObject,
    StatusBody,
    is_pod_ready,
    labels_of,
    mapping_at,
    metadata,
    name_of,
    rfc3339,
)
from slagate.sandbox.objects.labelselectors import selector_from_object
from slagate.sandbox.objects.resources import POD_DISRUPTION_BUDGETS, PODS
from slagate.sandbox.objects.selection import Selection

_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


def evict(store: ObjectStore, namespace: str, name: str, body: Any) -> StatusBody:
    """Evict pod ``namespace/name``; the Status to answer (201), or raise the refusal."""
    eviction = body if isinstance(body, dict) else {}
    sent = mapping_at(eviction, "metadata").get("name")
    if sent not in (None, "", name):
        raise BadRequest(f"name in URL does not match name in Eviction object ({sent} != {name})")
    options = DeleteOptions.from_json(eviction.get("deleteOptions"), {})
    pod = store.get(PODS, namespace, name)
    if not _finished_or_terminating(pod):
        budgets = _budgets_of(store, namespace, pod)
        if len(budgets) > 1:
            raise InternalError(
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support."
            )
        if budgets:
            _take_disruption(store, budgets[0], pod)
    store.delete(PODS, namespace, name, options)
    return success_status({}, code=201)


def _finished_or_terminating(pod: RawObject) -> bool:
    phase = mapping_at(pod, "status").get("phase")
    return phase in ("Succeeded", "Failed") or bool(metadata(pod).get("deletionTimestamp"))


def _budgets_of(store: ObjectStore, namespace: str, pod: RawObject) -> list[RawObject]:
    matching = []
    for budget in store.list(Selection(POD_DISRUPTION_BUDGETS, namespace)).items:
        raw = mapping_at(budget, "spec").get("selector")
        if isinstance(raw, dict) and raw and selector_from_object(raw).matches(labels_of(pod)):
            matching.append(budget)
    return matching


def _take_disruption(store: ObjectStore, budget: RawObject, pod: RawObject) -> None:
    pod_name, now = name_of(pod), rfc3339(store.now())

    def decrement(current: RawObject) -> RawObject:
        status = mapping_at(current, "status")
        generation = int(metadata(current).get("generation", 1))
        if int(status.get("observedGeneration", 0)) < generation:
            raise _refusal(
                f"The disruption budget {name_of(current)} is still being processed by the server.",
                10,
            )
        healthy, desired = (
            int(status.get("currentHealthy", 0)),
            int(status.get("desiredHealthy", 0)),
        )
        if not is_pod_ready(pod) and healthy >= desired > 0:
            return current  # an unhealthy pod while the budget holds: not a disruption
        allowed = int(status.get("disruptionsAllowed", 0))
        if allowed <= 0:
            message = (
                f"The disruption budget {name_of(current)} needs {desired} healthy pods "
                f"and has {healthy} currently"
            )
            raise _refusal(message, 0)
        status["disruptionsAllowed"] = allowed - 1
        status.setdefault("disruptedPods", {})[pod_name] = now
        return current

    store.modify(POD_DISRUPTION_BUDGETS, *_key(budget), decrement, subresource="status")


def _key(budget: RawObject) -> tuple[str, str]:
    return str(metadata(budget).get("namespace", "")), name_of(budget)


def _refusal(cause: str, retry_after_s: int) -> TooManyRequests:
    details: StatusDetails = {
        "causes": [{"reason": "DisruptionBudget", "message": cause, "field": ""}]
    }
    if retry_after_s:
        details["retryAfterSeconds"] = retry_after_s
    return TooManyRequests(_VIOLATION, details)
