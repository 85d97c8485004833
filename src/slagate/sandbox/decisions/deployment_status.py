"""Deployment status and conditions, and when ``kubectl rollout status`` says done.

Upstream: ``calculateStatus`` and ``syncRolloutStatus`` (pkg/controller/deployment),
``DeploymentComplete`` / ``DeploymentProgressing`` / ``DeploymentTimedOut``
(util/deployment_util.go) and kubectl's ``DeploymentStatusViewer``. Pure: ``now_s`` given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from slagate.sandbox.decisions.conditions import (
    Condition,
    find_condition,
    remove_condition,
    set_deployment_condition,
)
from slagate.sandbox.decisions.deployments import (
    DeploymentStatus,
    DeploymentView,
    ReplicaSetView,
)

AVAILABLE = "Available"
PROGRESSING = "Progressing"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"


def progressing(reason: str, message: str, now_s: float, status: bool = True) -> Condition:
    """A fresh Progressing condition stamped ``now_s`` (upstream NewDeploymentCondition)."""
    return Condition(PROGRESSING, status, reason, message, now_s, now_s)


def calculate_status(
    d: DeploymentView,
    replica_sets: Sequence[ReplicaSetView],
    new_rs: ReplicaSetView | None,
    now_s: float,
) -> DeploymentStatus:
    """Counts, observedGeneration and the Available condition (upstream calculateStatus).

    replicas, ready and available sum the ReplicaSets' status (terminating pods are not in
    them); unavailable is ``sum(spec.replicas) - available``, floored at 0.
    """
    available = sum(rs.available_replicas for rs in replica_sets)
    unavailable = max(0, sum(rs.spec_replicas for rs in replica_sets) - available)
    status = DeploymentStatus(
        observed_generation=d.generation,
        replicas=sum(rs.replicas for rs in replica_sets),
        updated_replicas=new_rs.replicas if new_rs is not None else 0,
        ready_replicas=sum(rs.ready_replicas for rs in replica_sets),
        available_replicas=available,
        unavailable_replicas=unavailable,
    )
    condition = _availability(available >= d.replicas - d.unavailable, now_s)
    return replace(status, conditions=set_deployment_condition(d.status.conditions, condition))


def _availability(enough: bool, now_s: float) -> Condition:
    if enough:
        reason, message = MINIMUM_REPLICAS_AVAILABLE, "Deployment has minimum availability."
    else:
        reason, message = (
            MINIMUM_REPLICAS_UNAVAILABLE,
            ("Deployment does not have minimum availability."),
        )
    return Condition(AVAILABLE, enough, reason, message, now_s, now_s)


def synced_status(
    d: DeploymentView,
    replica_sets: Sequence[ReplicaSetView],
    new_rs: ReplicaSetView | None,
    now_s: float,
) -> DeploymentStatus:
    """The status the Deployment controller writes at the end of a sync: ``calculate_status``
    plus the Progressing condition (upstream syncRolloutStatus).

    Not ``kubectl rollout status`` (that is ``rollout_state`` here and
    ``slagate.kube.states.rollout_status`` for the harness).

    Complete -> NewReplicaSetAvailable; any progress since the last status ->
    ReplicaSetUpdated (lastUpdateTime moves, which restarts the deadline); no progress for
    progressDeadlineSeconds after the last update -> False ProgressDeadlineExceeded.
    """
    status = calculate_status(d, replica_sets, new_rs, now_s)
    if d.progress_deadline_s is None:
        return replace(status, conditions=remove_condition(status.conditions, PROGRESSING))
    current = find_condition(d.status.conditions, PROGRESSING)
    settled = current is not None and current.reason == NEW_RS_AVAILABLE
    if settled and status.replicas == status.updated_replicas:
        return status
    condition = _progress(d, status, _rs_label(d, new_rs), now_s)
    if condition is None:
        return status
    return replace(status, conditions=_set_progress(status.conditions, condition))


def _rs_label(d: DeploymentView, new_rs: ReplicaSetView | None) -> str:
    return f'ReplicaSet "{new_rs.name}"' if new_rs is not None else f'Deployment "{d.name}"'


def _progress(
    d: DeploymentView, status: DeploymentStatus, label: str, now_s: float
) -> Condition | None:
    """The Progressing condition this sync should set, if any."""
    if deployment_complete(d, status):
        return progressing(NEW_RS_AVAILABLE, f"{label} has successfully progressed.", now_s)
    if made_progress(d.status, status):
        return progressing(RS_UPDATED, f"{label} is progressing.", now_s)
    if timed_out(d, status, now_s):
        message = f"{label} has timed out progressing."
        return progressing(TIMED_OUT, message, now_s, status=False)
    return None


def _set_progress(conditions: tuple[Condition, ...], new: Condition) -> tuple[Condition, ...]:
    """ReplicaSetUpdated always refreshes lastUpdateTime, even with the same reason; the
    others go through the ordinary set (a repeated reason changes nothing)."""
    if new.reason != RS_UPDATED:
        return set_deployment_condition(conditions, new)
    old = find_condition(conditions, PROGRESSING)
    if old is not None and old.status:
        new = replace(new, last_transition_s=old.last_transition_s)
    return set_deployment_condition(remove_condition(conditions, PROGRESSING), new)


def deployment_complete(d: DeploymentView, status: DeploymentStatus) -> bool:
    """All replicas updated, present and available, and this generation observed."""
    return (
        status.updated_replicas == d.replicas
        and status.replicas == d.replicas
        and status.available_replicas == d.replicas
        and status.observed_generation >= d.generation
    )


def made_progress(old: DeploymentStatus, new: DeploymentStatus) -> bool:
    """More updated, ready or available pods, or fewer old pods, than last time."""
    old_pods_before = old.replicas - old.updated_replicas
    old_pods_now = new.replicas - new.updated_replicas
    return (
        new.updated_replicas > old.updated_replicas
        or old_pods_now < old_pods_before
        or new.ready_replicas > old.ready_replicas
        or new.available_replicas > old.available_replicas
    )


def timed_out(d: DeploymentView, status: DeploymentStatus, now_s: float) -> bool:
    """No progress for more than progressDeadlineSeconds since the condition's
    lastUpdateTime (upstream DeploymentTimedOut)."""
    condition = find_condition(status.conditions, PROGRESSING)
    if d.progress_deadline_s is None or condition is None:
        return False
    if condition.reason == NEW_RS_AVAILABLE:
        return False
    if condition.reason == TIMED_OUT:
        return True
    since = condition.last_update_s if condition.last_update_s is not None else 0.0
    return since + d.progress_deadline_s < now_s


@dataclass(frozen=True)
class RolloutState:
    """What ``kubectl rollout status`` would print and whether it would exit.

    ``done``: exit 0, the rollout is complete. ``failed``: exit 1, the progress deadline
    was exceeded. Neither: keep watching. Old pods may still be terminating when ``done``.
    """

    done: bool
    failed: bool
    message: str


def rollout_state(
    name: str, generation: int, spec_replicas: int, status: DeploymentStatus
) -> RolloutState:
    """kubectl's completion rule, from a Deployment's generation, spec and status."""
    if generation > status.observed_generation:
        return RolloutState(False, False, "Waiting for deployment spec update to be observed...")
    condition = find_condition(status.conditions, PROGRESSING)
    if condition is not None and condition.reason == TIMED_OUT:
        return RolloutState(False, True, f'deployment "{name}" exceeded its progress deadline')
    waiting = _waiting(spec_replicas, status)
    if waiting:
        return RolloutState(
            False, False, f'Waiting for deployment "{name}" rollout to finish: {waiting}'
        )
    return RolloutState(True, False, f'deployment "{name}" successfully rolled out')


def _waiting(spec_replicas: int, status: DeploymentStatus) -> str:
    """Why the rollout is not complete yet, in kubectl's words; empty when it is."""
    updated, total, available = (
        status.updated_replicas,
        status.replicas,
        status.available_replicas,
    )
    if updated < spec_replicas:
        return f"{updated} out of {spec_replicas} new replicas have been updated..."
    if total > updated:
        return f"{total - updated} old replicas are pending termination..."
    if available < updated:
        return f"{available} of {updated} updated replicas are available..."
    return ""
