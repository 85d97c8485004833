"""The ReplicaSet controller: keep ``spec.replicas`` pods alive and report on them.

Each sync (upstream ``syncReplicaSet``) lists the pods the ReplicaSet controls, asks
``plan_replica_set`` how many to create or which to delete (unready before ready, and so
on: ``deletion_order``), creates pods from the template or deletes through the store
(where the kubelet's delete hook makes deletion graceful), then writes ``status`` from
``replica_set_counts`` over the pods as they are afterwards. Terminating pods count for
nothing, as upstream. A pod that is Ready but not yet Available (minReadySeconds) makes
the controller come back when it will be.

Simplified: pods are matched by their controller reference only (no adoption of orphans
that match the selector, no release of pods that stop matching) and there is no
ReplicaFailure condition; the sandbox has no quota to fail on.
"""

from __future__ import annotations

import copy
from typing import Any

from slagate.errors import NotFound
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.controllermanager.owners import (
    Key,
    controller_name,
    is_controlled_by,
    key_of,
    owner_reference,
)
from slagate.sandbox.controllermanager.reading import integer, is_deleting, pod_view
from slagate.sandbox.controllermanager.reconciling import Controller, Wiring
from slagate.sandbox.controllermanager.recording import EventRecorder
from slagate.sandbox.controllermanager.writing import replica_set_status_body
from slagate.sandbox.decisions.replicaset import (
    PodView,
    is_active,
    is_available,
    plan_replica_set,
    replica_set_counts,
)
from slagate.sandbox.objects.bodies import RawObject, labels_of, mapping_at, metadata, name_of
from slagate.sandbox.objects.labelselectors import selector_from_object
from slagate.sandbox.objects.resources import PODS, REPLICASETS
from slagate.sandbox.objects.selection import Selection

AVAILABILITY_MARGIN_S = 0.05
"""Extra wait after a pod's minReadySeconds ends, so the re-check lands after it."""


class ReplicaSetController(Controller):
    name = "replicaset-controller"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring, wiring.informers.replica_sets)
        self.events = EventRecorder(self.store, self.name, self.clock)
        wiring.informers.replica_sets.add_handler(self._on_replica_set)
        wiring.informers.pods.add_handler(self._on_pod)

    def _on_replica_set(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        if kind is not EventType.DELETED:
            self.queue.add(key_of(obj))

    def _on_pod(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        for pod in (obj, old):
            owner = controller_name(pod, "ReplicaSet") if pod is not None else None
            if pod is not None and owner is not None:
                self.queue.add((key_of(pod)[0], owner))

    def sync(self, key: Key) -> None:
        namespace, name = key
        try:
            rs = self.store.get(REPLICASETS, namespace, name)
        except NotFound:
            return  # its pods go with it: the store collects dependents
        if is_deleting(rs):
            return
        pods = self._owned_pods(rs)
        plan = plan_replica_set(
            integer(mapping_at(rs, "spec").get("replicas"), 1), [pod_view(p) for p in pods]
        )
        for _ in range(plan.create):
            self._create_pod(rs)
        for pod_name in plan.delete:
            self._delete_pod(rs, pod_name)
        if plan.create or plan.delete:
            pods = self._owned_pods(rs)
        self._write_status(rs, pods)

    def _owned_pods(self, rs: RawObject) -> list[RawObject]:
        selector = selector_from_object(mapping_at(rs, "spec", "selector"))
        listing = self.store.list(Selection(PODS, key_of(rs)[0], labels=selector))
        return [pod for pod in listing.items if is_controlled_by(pod, rs)]

    def _create_pod(self, rs: RawObject) -> None:
        created = self.store.create(PODS, pod_from_template(rs), key_of(rs)[0])
        self.events.normal(rs, "SuccessfulCreate", f"Created pod: {name_of(created)}")

    def _delete_pod(self, rs: RawObject, pod_name: str) -> None:
        try:
            self.store.delete(PODS, key_of(rs)[0], pod_name)
        except NotFound:
            return
        self.events.normal(rs, "SuccessfulDelete", f"Deleted pod: {pod_name}")

    def _write_status(self, rs: RawObject, pods: list[RawObject]) -> None:
        now = self.clock()
        min_ready_s = integer(mapping_at(rs, "spec").get("minReadySeconds"))
        views = [pod_view(p) for p in pods]
        counts = replica_set_counts(views, min_ready_s, now)
        template_labels = mapping_at(rs, "spec", "template", "metadata").get("labels") or {}
        fully_labeled = sum(
            1
            for pod, view in zip(pods, views, strict=True)
            if is_active(view) and template_labels.items() <= labels_of(pod).items()
        )
        generation = integer(metadata(rs).get("generation"), 1)

        def with_status(current: RawObject) -> RawObject:
            conditions = mapping_at(current, "status").get("conditions")
            body = replica_set_status_body(counts, fully_labeled, generation, conditions)
            return {**current, "status": body}

        self.store.modify(REPLICASETS, *key_of(rs), with_status, subresource="status")
        self._recheck_availability(rs, views, min_ready_s, now)

    def _recheck_availability(
        self, rs: RawObject, views: list[PodView], min_ready_s: int, now: float
    ) -> None:
        """Come back when the next Ready pod becomes Available (upstream requeues after
        minReadySeconds)."""
        if min_ready_s <= 0:
            return
        waiting = [
            v.ready_since_s + min_ready_s - now
            for v in views
            if is_active(v)
            and v.ready_since_s is not None
            and not is_available(v, min_ready_s, now)
        ]
        if waiting:
            self.queue.add_after(key_of(rs), max(min(waiting), 0.0) + AVAILABILITY_MARGIN_S)


def pod_from_template(rs: RawObject) -> RawObject:
    """A new pod of ``rs``: its template, a generated name ``<rs>-<5 chars>`` and a
    controller reference (upstream ``GetPodFromTemplate``)."""
    template = mapping_at(rs, "spec", "template")
    template_meta = mapping_at(template, "metadata")
    meta: dict[str, Any] = {
        "generateName": f"{name_of(rs)}-",
        "namespace": key_of(rs)[0],
        "labels": dict(template_meta.get("labels") or {}),
        "ownerReferences": [owner_reference(rs)],
    }
    if template_meta.get("annotations"):
        meta["annotations"] = dict(template_meta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": copy.deepcopy(mapping_at(template, "spec")),
    }
