"""Writing decisions back as raw bodies: statuses, conditions, timestamps.

The way back from ``reading``: frozen values of ``slagate.sandbox.decisions`` to the JSON
upstream serialises. Counts that Go marks ``omitempty`` are left out when zero, as a real
cluster leaves them out; clients read them as absent (None), and so must the harness.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from slagate.sandbox.decisions.conditions import Condition
from slagate.sandbox.decisions.deployments import DeploymentStatus
from slagate.sandbox.decisions.replicaset import ReplicaSetCounts
from slagate.sandbox.objects.bodies import rfc3339


def format_time(seconds: float) -> str:
    """Unix seconds as a Kubernetes timestamp: UTC, whole seconds, ``Z``."""
    return rfc3339(datetime.fromtimestamp(seconds, UTC))


def condition_body(condition: Condition, with_update_time: bool = False) -> dict[str, Any]:
    """A status condition; ``with_update_time`` for Deployment conditions, which carry
    ``lastUpdateTime`` (HPA conditions do not)."""
    body: dict[str, Any] = {"type": condition.type, "status": str(condition.status)}
    if with_update_time:
        updated = condition.last_update_s
        body["lastUpdateTime"] = format_time(
            condition.last_transition_s if updated is None else updated
        )
    body["lastTransitionTime"] = format_time(condition.last_transition_s)
    body["reason"] = condition.reason
    body["message"] = condition.message
    return body


def _counts(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    return {key: value for key, value in pairs if value}


def deployment_status_body(status: DeploymentStatus, collision_count: Any) -> dict[str, Any]:
    """``Deployment.status``; ``collision_count`` is carried over as stored."""
    body: dict[str, Any] = _counts(
        (
            ("observedGeneration", status.observed_generation),
            ("replicas", status.replicas),
            ("updatedReplicas", status.updated_replicas),
            ("readyReplicas", status.ready_replicas),
            ("availableReplicas", status.available_replicas),
            ("unavailableReplicas", status.unavailable_replicas),
        )
    )
    if status.conditions:
        body["conditions"] = [condition_body(c, with_update_time=True) for c in status.conditions]
    if isinstance(collision_count, int):
        body["collisionCount"] = collision_count
    return body


def replica_set_status_body(
    counts: ReplicaSetCounts, fully_labeled: int, generation: int, conditions: Any
) -> dict[str, Any]:
    """``ReplicaSet.status``: ``replicas`` is always written (it is not omitempty
    upstream); stored ``conditions`` (none are set here) are kept."""
    body: dict[str, Any] = {"replicas": counts.replicas}
    body.update(
        _counts(
            (
                ("fullyLabeledReplicas", fully_labeled),
                ("readyReplicas", counts.ready),
                ("availableReplicas", counts.available),
                ("observedGeneration", generation),
            )
        )
    )
    if conditions:
        body["conditions"] = conditions
    return body
