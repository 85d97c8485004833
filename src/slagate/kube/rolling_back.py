"""Undoing a rollout the way ``kubectl rollout undo --to-revision=N`` does.

kubectl (``polymorphichelpers/rollback.go``, ``DeploymentRollbacker``):

1. refuse a paused Deployment ("resume it first with 'kubectl rollout resume'");
2. list the ReplicaSets the Deployment controls (its selector, owner uid) and take the one
   whose ``deployment.kubernetes.io/revision`` is N; none: "unable to find the specified
   revision";
3. if its template equals the Deployment's, ignoring the ``pod-template-hash`` label:
   "skipped rollback (current template already matches revision N)";
4. else one JSON patch: ``replace /spec/template`` with the ReplicaSet's template (without
   the hash label) and ``replace /metadata/annotations`` with the ReplicaSet's annotations,
   except the controller's own (revision, revision-history, desired-replicas,
   max-replicas, last-applied-configuration), which keep the Deployment's values.

The Deployment controller then finds the old ReplicaSet matching the template, gives it
the next revision and scales it up: the undo is a rollout like any other, waited for by
the rule ``kubectl rollout status`` applies and until the undone revision's pods are gone.

N is the revision the Deployment had *before* the action began (recorded by the action
runner), not kubectl's default "the previous one": an action that failed before creating
a ReplicaSet must not undo an older rollout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from kubernetes import client

from slagate.errors import KubernetesError, RolloutStopped, RolloutTimeout
from slagate.kube.acting import Actor, HarnessEvents, RollbackTarget, revision_of
from slagate.kube.bodies import DeploymentBody, RawObject, meta, selector_text
from slagate.kube.states import REVISION_ANNOTATION, TEMPLATE_HASH_LABEL
from slagate.kube.streaming import StopSignal
from slagate.kube.waiting import RolloutWaiter
from slagate.timeline import EventKind

logger = logging.getLogger(__name__)
EVENTS_WRITER = "kube-rollback"

KEPT_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
"""Annotations an undo leaves as the Deployment has them (kubectl's annotationsToSkip)."""


@dataclass(frozen=True)
class Undo:
    """What an undo did: ``patched`` False when the template already matched."""

    revision: str
    patched: bool
    message: str  # kubectl's words


@dataclass(frozen=True)
class RollbackOutcome:
    """How one undo ended: ``status`` ``ok``, ``skipped``, ``timeout``, ``stopped`` or
    ``error``; ``message`` as its ``rollback_end`` event says it."""

    deployment: str
    status: str
    message: str


def roll_back(
    api_client: client.ApiClient,
    namespace: str,
    targets: Sequence[RollbackTarget],
    reason: str,
    run_dir: Path,
    stop: StopSignal,
    clock: Callable[[], float] = time.time,
) -> list[RollbackOutcome]:
    """Undo every target in turn, each recorded as ``rollback_start`` / ``rollback_end``
    and waited for until complete and settled, or its ``timeout_s``; ``stop`` cuts the
    waits short (the undo, once patched, goes on in the cluster)."""
    actor = Actor(api_client, namespace, clock)
    waiter = RolloutWaiter(api_client, namespace, stop)
    events = HarnessEvents(run_dir, clock, EVENTS_WRITER)
    return [_roll_back_one(t, actor, waiter, events, reason) for t in targets]


def _roll_back_one(
    target: RollbackTarget,
    actor: Actor,
    waiter: RolloutWaiter,
    events: HarnessEvents,
    reason: str,
    monotonic: Callable[[], float] = time.monotonic,
) -> RollbackOutcome:
    label = f"rollback deployment/{target.deployment}"
    events.emit(EventKind.ROLLBACK_START, label, f"to revision {target.revision}: {reason}")
    deadline = monotonic() + target.timeout_s
    try:
        undo = undo_rollout(actor, target.deployment, target.revision)
        if undo.patched:
            complete = waiter.wait_complete(target.deployment, deadline)
            waiter.wait_settled(complete, deadline)
            status, message = "ok", f"ok revision {revision_of(complete) or '?'}"
        else:
            status, message = "skipped", f"skipped: {undo.message}"
    except RolloutTimeout as e:
        status, message = "timeout", f"timeout after {target.timeout_s:g} s: {e}"
    except RolloutStopped as e:
        status, message = "stopped", f"stopped: {e}"
    except KubernetesError as e:
        status, message = "error", str(e)
    if status != "ok":
        logger.warning("%s: %s", label, message)
    events.emit(EventKind.ROLLBACK_END, label, message)
    return RollbackOutcome(target.deployment, status, message)


def undo_rollout(actor: Actor, deployment: str, to_revision: str) -> Undo:
    """``kubectl rollout undo deployment/<deployment> --to-revision=<to_revision>``."""
    current = actor.read_deployment(deployment)
    spec = cast(DeploymentBody, current).get("spec") or {}
    if spec.get("paused"):
        raise KubernetesError(
            f"deployment {deployment} is paused: cannot roll back to revision {to_revision}; "
            "resume it first with 'kubectl rollout resume' and undo by hand"
        )
    target = _replica_set_of(actor, current, to_revision)
    template = _without_hash(cast(dict[str, Any], target.get("spec") or {}).get("template"))
    if template == _without_hash(cast(dict[str, Any], spec).get("template")):
        message = f"skipped rollback (current template already matches revision {to_revision})"
        return Undo(to_revision, False, message)
    annotations = _annotations(current, target)
    patch = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    actor.patch_deployment(deployment, patch, "kubectl-rollout")
    return Undo(to_revision, True, f"deployment.apps/{deployment} rolled back")


def _replica_set_of(actor: Actor, deployment: RawObject, revision: str) -> RawObject:
    name = meta(deployment).get("name", "")
    spec = cast(DeploymentBody, deployment).get("spec") or {}
    uid = meta(deployment).get("uid")
    owned = [
        rs
        for rs in actor.list_replica_sets(selector_text(spec.get("selector") or {}))
        if any(o.get("uid") == uid for o in meta(rs).get("ownerReferences") or [])
    ]
    for rs in owned:
        if (meta(rs).get("annotations") or {}).get(REVISION_ANNOTATION) == revision:
            return rs
    raise KubernetesError(
        f"deployment {name}: unable to find revision {revision} among its "
        f"{len(owned)} ReplicaSets in namespace {actor.namespace} (revisionHistoryLimit "
        "may have pruned it); undo by hand with kubectl rollout undo"
    )


def _without_hash(template: Any) -> dict[str, Any]:
    """A pod template without the ``pod-template-hash`` label (kubectl EqualIgnoreHash)."""
    body = dict(template or {})
    metadata = dict(body.get("metadata") or {})
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k != TEMPLATE_HASH_LABEL}
    metadata["labels"] = labels
    body["metadata"] = metadata
    return body


def _annotations(deployment: RawObject, replica_set: RawObject) -> dict[str, str]:
    own = meta(deployment).get("annotations") or {}
    kept = {k: v for k, v in own.items() if k in KEPT_ANNOTATIONS}
    theirs = meta(replica_set).get("annotations") or {}
    return {**kept, **{k: v for k, v in theirs.items() if k not in KEPT_ANNOTATIONS}}
