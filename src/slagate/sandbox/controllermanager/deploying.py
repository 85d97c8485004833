"""The Deployment controller: roll ReplicaSets with ``sync_deployment`` and report status.

Each sync reads the Deployment and the ReplicaSets it controls, lets the pure
``sync_deployment`` decide one step (create the new ReplicaSet, scale, proportional scaling
after a replica change, history cleanup) and applies it: ReplicaSets created or updated
with their revision, desired-replicas and max-replicas annotations, old ones past
revisionHistoryLimit deleted, the revision annotation on the Deployment, then its status
through ``/status``. Each size change is a ``ScalingReplicaSet`` Event, worded as upstream.

Triggers: the Deployment, any ReplicaSet it controls, and pod deletions (Recreate waits
for old pods to be gone). While a rollout is in progress the controller also comes back
when its progress deadline would pass, as upstream ``requeueStuckDeployment`` does.

Simplified: paused Deployments roll out anyway; ReplicaSets are found by controller
reference only (no adoption); a name collision bumps ``status.collisionCount`` as
upstream, without comparing templates.
"""

from __future__ import annotations

import contextlib
import copy

from slagate.errors import AlreadyExists, NotFound
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.controllermanager.owners import (
    Key,
    controller_name,
    is_controlled_by,
    key_of,
    owner_reference,
)
from slagate.sandbox.controllermanager.reading import (
    annotations_of,
    deployment_view,
    integer,
    is_deleting,
    pod_phase,
    replica_set_view,
)
from slagate.sandbox.controllermanager.reconciling import Controller, Wiring
from slagate.sandbox.controllermanager.recording import EventRecorder
from slagate.sandbox.controllermanager.writing import deployment_status_body
from slagate.sandbox.decisions.conditions import find_condition
from slagate.sandbox.decisions.deployment_status import (
    NEW_RS_AVAILABLE,
    PROGRESSING,
    TIMED_OUT,
    deployment_complete,
)
from slagate.sandbox.decisions.deployments import DeploymentView, StrategyType
from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.decisions.revisions import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION,
)
from slagate.sandbox.decisions.rollout import DeploymentSync, ReplicaSetWrite, sync_deployment
from slagate.sandbox.objects.bodies import RawObject, labels_of, mapping_at, metadata
from slagate.sandbox.objects.resources import DEPLOYMENTS, PODS, REPLICASETS
from slagate.sandbox.objects.selection import Selection

_NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        "deprecated.deployment.rollback.to",
    }
)
"""Deployment annotations upstream does not copy to its ReplicaSets."""
DEADLINE_MARGIN_S = 1.0


class DeploymentController(Controller):
    name = "deployment-controller"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring, wiring.informers.deployments)
        self.events = EventRecorder(self.store, self.name, self.clock)
        wiring.informers.deployments.add_handler(self._on_deployment)
        wiring.informers.replica_sets.add_handler(self._on_replica_set)
        wiring.informers.pods.add_handler(self._on_pod)

    def _on_deployment(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        if kind is not EventType.DELETED:
            self.queue.add(key_of(obj))

    def _on_replica_set(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        owner = controller_name(obj, "Deployment")
        if owner is not None:
            self.queue.add((key_of(obj)[0], owner))

    def _on_pod(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        if kind is not EventType.DELETED:
            return
        rs_name = controller_name(obj, "ReplicaSet")
        rs = self.informers.replica_sets.cached(key_of(obj)[0], rs_name) if rs_name else None
        owner = controller_name(rs, "Deployment") if rs is not None else None
        if owner is not None:
            self.queue.add((key_of(obj)[0], owner))

    def sync(self, key: Key) -> None:
        namespace, name = key
        try:
            deployment = self.store.get(DEPLOYMENTS, namespace, name)
        except NotFound:
            return  # its ReplicaSets go with it: the store collects dependents
        if is_deleting(deployment):
            return
        owned = [
            rs
            for rs in self.store.list(Selection(REPLICASETS, namespace)).items
            if is_controlled_by(rs, deployment)
        ]
        d = deployment_view(deployment)
        now = self.clock()
        alive = 0
        if d.strategy is StrategyType.RECREATE:
            alive = self._old_pods_alive(namespace, d, owned)
        result = sync_deployment(d, [replica_set_view(rs) for rs in owned], now, alive)
        by_name = {metadata(rs).get("name"): rs for rs in owned}
        for write in result.writes:
            if not self._apply(deployment, d, write, by_name.get(write.name)):
                return
        for rs_name in result.deletes:
            self._delete_replica_set(namespace, rs_name)
        self._write_revision(deployment, result.revision)
        self._write_status(deployment, result)
        self._schedule_deadline_check(key, d, result, now)

    def _old_pods_alive(self, namespace: str, d: DeploymentView, owned: list[RawObject]) -> int:
        """Pods of old ReplicaSets not yet Succeeded or Failed, terminating included."""
        old = [rs for rs in owned if labels_of(rs).get(POD_TEMPLATE_HASH_LABEL) != d.template_hash]
        return sum(
            1
            for pod in self.store.list(Selection(PODS, namespace)).items
            if any(is_controlled_by(pod, rs) for rs in old)
            and pod_phase(pod) not in (PodPhase.SUCCEEDED, PodPhase.FAILED)
        )

    # -- ReplicaSets -------------------------------------------------------------------

    def _apply(
        self,
        deployment: RawObject,
        d: DeploymentView,
        write: ReplicaSetWrite,
        current: RawObject | None,
    ) -> bool:
        """Create or update one ReplicaSet; False when the sync must stop here."""
        if write.create:
            return self._create(deployment, d, write)
        before = integer(mapping_at(current, "spec").get("replicas"), 1) if current else 0
        namespace = key_of(deployment)[0]
        self.store.modify(REPLICASETS, namespace, write.name, lambda rs: _resized(rs, write))
        if before != write.replicas:
            direction = "up" if write.replicas > before else "down"
            self._scaled(deployment, direction, write.name, before, write.replicas)
        return True

    def _create(self, deployment: RawObject, d: DeploymentView, write: ReplicaSetWrite) -> bool:
        namespace = key_of(deployment)[0]
        try:
            self.store.create(REPLICASETS, replica_set_for(deployment, d, write), namespace)
        except AlreadyExists:
            existing = self.store.get(REPLICASETS, namespace, write.name)
            same = labels_of(existing).get(POD_TEMPLATE_HASH_LABEL) == write.template_hash
            if is_controlled_by(existing, deployment) and same:
                self.queue.add(key_of(deployment))  # created meanwhile: sync again
            else:
                self._bump_collision_count(deployment)  # its status write syncs again
            return False
        if write.replicas > 0:
            self._scaled(deployment, "up", write.name, 0, write.replicas)
        return True

    def _bump_collision_count(self, deployment: RawObject) -> None:
        """A ReplicaSet of that name exists and is not ours: salt the hash (upstream)."""

        def bumped(current: RawObject) -> RawObject:
            status = dict(mapping_at(current, "status"))
            status["collisionCount"] = integer(status.get("collisionCount")) + 1
            return {**current, "status": status}

        self.store.modify(DEPLOYMENTS, *key_of(deployment), bumped, subresource="status")

    def _scaled(self, deployment: RawObject, direction: str, rs: str, old: int, new: int) -> None:
        message = f"Scaled {direction} replica set {rs} from {old} to {new}"
        self.events.normal(deployment, "ScalingReplicaSet", message)

    def _delete_replica_set(self, namespace: str, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.store.delete(REPLICASETS, namespace, name)

    # -- the Deployment ----------------------------------------------------------------

    def _write_revision(self, deployment: RawObject, revision: int | None) -> None:
        """``deployment.kubernetes.io/revision`` follows the new ReplicaSet's."""
        if revision is None or annotations_of(deployment).get(REVISION_ANNOTATION) == str(revision):
            return

        def annotated(current: RawObject) -> RawObject:
            meta = metadata(current)
            meta["annotations"] = {
                **(meta.get("annotations") or {}),
                REVISION_ANNOTATION: str(revision),
            }
            return current

        self.store.modify(DEPLOYMENTS, *key_of(deployment), annotated)

    def _write_status(self, deployment: RawObject, result: DeploymentSync) -> None:
        def with_status(current: RawObject) -> RawObject:
            collisions = mapping_at(current, "status").get("collisionCount")
            return {**current, "status": deployment_status_body(result.status, collisions)}

        self.store.modify(DEPLOYMENTS, *key_of(deployment), with_status, subresource="status")

    def _schedule_deadline_check(
        self, key: Key, d: DeploymentView, result: DeploymentSync, now: float
    ) -> None:
        """Come back when the progress deadline would pass if nothing moves."""
        condition = find_condition(result.status.conditions, PROGRESSING)
        if d.progress_deadline_s is None or condition is None:
            return
        if condition.reason in (NEW_RS_AVAILABLE, TIMED_OUT) or deployment_complete(
            d, result.status
        ):
            return
        since = condition.last_update_s if condition.last_update_s is not None else now
        self.queue.add_after(key, since + d.progress_deadline_s - now + DEADLINE_MARGIN_S)


def replica_set_for(deployment: RawObject, d: DeploymentView, write: ReplicaSetWrite) -> RawObject:
    """The new ReplicaSet of a template (upstream ``getNewReplicaSet``): the template with
    the pod-template-hash label, in the selector too, owned by the Deployment."""
    spec = mapping_at(deployment, "spec")
    template = copy.deepcopy(mapping_at(spec, "template"))
    template_meta = template.setdefault("metadata", {})
    labels = {**(template_meta.get("labels") or {}), POD_TEMPLATE_HASH_LABEL: write.template_hash}
    template_meta["labels"] = labels
    selector = copy.deepcopy(mapping_at(spec, "selector"))
    selector["matchLabels"] = {
        **(selector.get("matchLabels") or {}),
        POD_TEMPLATE_HASH_LABEL: write.template_hash,
    }
    copied = {k: v for k, v in annotations_of(deployment).items() if k not in _NOT_COPIED}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": write.name,
            "namespace": key_of(deployment)[0],
            "labels": dict(labels),
            "annotations": {**copied, **_annotations(write)},
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {
            "replicas": write.replicas,
            "minReadySeconds": d.min_ready_s,
            "selector": selector,
            "template": template,
        },
    }


def _annotations(write: ReplicaSetWrite) -> dict[str, str]:
    annotations = {REVISION_ANNOTATION: str(write.revision)}
    if write.desired_replicas is not None:
        annotations[DESIRED_REPLICAS_ANNOTATION] = str(write.desired_replicas)
    if write.max_replicas is not None:
        annotations[MAX_REPLICAS_ANNOTATION] = str(write.max_replicas)
    return annotations


def _resized(rs: RawObject, write: ReplicaSetWrite) -> RawObject:
    rs.setdefault("spec", {})["replicas"] = write.replicas
    meta = metadata(rs)
    meta["annotations"] = {**(meta.get("annotations") or {}), **_annotations(write)}
    return rs
