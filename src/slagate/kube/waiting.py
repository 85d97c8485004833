"""Waiting for a rollout to end, with a watch (never polling).

Two stages, each a list then a watch until a condition holds:

1. complete: the Deployment satisfies ``kubectl rollout status`` (generation observed,
   updated >= spec, status.replicas <= updated, available >= updated). Upstream declares
   this while old pods may still run their preStop hook or drain connections, so
2. settled: no pod of an old ReplicaSet is left, terminating ones included. The new
   ReplicaSet is the Deployment's own (same ``deployment.kubernetes.io/revision``); an
   old pod is one matching the Deployment's selector with another ``pod-template-hash``.

Both stages share one deadline. ``RolloutTimeout`` says what was still missing,
``RolloutFailed`` reports an exceeded progress deadline, ``RolloutStopped`` an interrupted wait.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol, cast

from kubernetes import client

from slagate.errors import (
    KubernetesError,
    ResourceExpired,
    RolloutError,
    RolloutFailed,
    RolloutStopped,
    RolloutTimeout,
)
from slagate.kube.bodies import (
    DeploymentBody,
    RawObject,
    WatchEventType,
    meta,
    name_of,
    selector_text,
)
from slagate.kube.connecting import is_transient, server_of
from slagate.kube.resources import DEPLOYMENTS, PODS, REPLICASETS, ListCall, Resource
from slagate.kube.states import (
    REVISION_ANNOTATION,
    TEMPLATE_HASH_LABEL,
    RolloutPhase,
    rollout_progress,
)
from slagate.kube.streaming import Query, StopSignal, list_objects, open_watch

WATCH_SLICE_S = 60.0
RETRY_S = 0.5
Objects = dict[str, RawObject]


class RolloutWaiter:
    """Waits on one namespace's Deployments; ``stop`` interrupts every wait at once."""

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        stop: StopSignal,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        request_timeout_s: float = 30.0,
    ) -> None:
        self._api_client = api_client
        self._server = server_of(api_client)
        self.namespace = namespace
        self._stop = stop
        self._monotonic = monotonic
        self._request_timeout_s = request_timeout_s

    def wait_complete(self, deployment: str, deadline: float) -> RawObject:
        """Until ``kubectl rollout status`` would say done; returns the Deployment."""
        query = Query(self.namespace, field_selector=f"metadata.name={deployment}")
        objects = self._watch_until(DEPLOYMENTS, query, _Complete(deployment), deadline)
        return objects[deployment]

    def wait_all_complete(self, deadline: float) -> Objects:
        """Until every Deployment of the namespace is complete (and there is one)."""
        query = Query(self.namespace)
        return self._watch_until(DEPLOYMENTS, query, _AllComplete(), deadline)

    def wait_settled(self, deployment: RawObject, deadline: float) -> None:
        """Until no pod of an old ReplicaSet of ``deployment`` exists any more."""
        spec = cast(DeploymentBody, deployment).get("spec") or {}
        selector = selector_text(spec.get("selector") or {})
        current = self._new_template_hash(deployment, selector)
        self._watch_until(PODS, Query(self.namespace, selector), _OldPodsGone(current), deadline)

    def _new_template_hash(self, deployment: RawObject, selector: str) -> str:
        revision = (meta(deployment).get("annotations") or {}).get(REVISION_ANNOTATION)
        uid = meta(deployment).get("uid")
        listing = list_objects(
            REPLICASETS.list_call(self._api_client),
            Query(self.namespace, selector),
            plural=REPLICASETS.plural,
            server=self._server,
            timeout_s=self._request_timeout_s,
        )
        owned = [rs for rs in listing.items if _owned_by(rs, uid)]
        newest = [rs for rs in owned if _revision(rs) == revision]
        newest = newest or sorted(owned, key=_revision_number)[-1:]
        if not newest:
            raise KubernetesError(
                f"deployment {name_of(deployment)} has no ReplicaSet in namespace "
                f"{self.namespace}: is its controller running?"
            )
        return (meta(newest[0]).get("labels") or {}).get(TEMPLATE_HASH_LABEL, "")

    def _watch_until(
        self,
        resource: Resource,
        query: Query,
        done: _Condition,
        deadline: float,
    ) -> Objects:
        call = resource.list_call(self._api_client)
        objects: Objects = {}
        version = self._relist(call, resource, query, objects)
        while not done(objects):
            remaining = deadline - self._monotonic()
            if self._stop.is_set():
                raise RolloutStopped(f"stopped while waiting: {done.missing()}")
            if remaining <= 0:
                raise RolloutTimeout(done.missing())
            try:
                version = self._follow(call, resource, query, objects, version, done, remaining)
            except ResourceExpired:
                version = self._relist(call, resource, query, objects)
            except RolloutError:
                raise
            except KubernetesError as e:
                if not is_transient(e):
                    raise
                self._stop.wait(min(RETRY_S, remaining))
        return objects

    def _relist(self, call: ListCall, resource: Resource, query: Query, objects: Objects) -> str:
        listing = list_objects(
            call,
            query,
            plural=resource.plural,
            server=self._server,
            timeout_s=self._request_timeout_s,
        )
        objects.clear()
        objects.update({name_of(obj): obj for obj in listing.items})
        return listing.resource_version

    def _follow(
        self,
        call: ListCall,
        resource: Resource,
        query: Query,
        objects: Objects,
        version: str,
        done: _Condition,
        remaining: float,
    ) -> str:
        """One watch until ``done``, its server timeout or a cut; the last version seen."""
        stream = open_watch(
            call,
            query,
            version,
            plural=resource.plural,
            server=self._server,
            timeout_s=math.ceil(min(remaining, WATCH_SLICE_S)),
        )
        with self._stop.watching(stream):
            for event in stream.events():
                version = event.resource_version or version
                if event.type == WatchEventType.BOOKMARK:
                    continue
                if event.type == WatchEventType.DELETED:
                    objects.pop(name_of(event.object), None)
                else:
                    objects[name_of(event.object)] = event.object
                if done(objects):
                    break
        return version


class _Condition(Protocol):
    def __call__(self, objects: Objects) -> bool:
        """Whether the watched objects (by name) satisfy the condition."""
        ...

    def missing(self) -> str:
        """What was still missing at the last check, for a timeout message."""
        ...


class _Complete:
    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.last = "no status yet"

    def __call__(self, objects: Objects) -> bool:
        body = objects.get(self.deployment)
        if body is None:
            self.last = f"deployment {self.deployment} not found"
            return False
        status = rollout_progress(body)
        if status.phase is RolloutPhase.DEADLINE_EXCEEDED:
            raise RolloutFailed(status.message)
        self.last = status.message
        return status.phase is RolloutPhase.COMPLETE

    def missing(self) -> str:
        return self.last


class _AllComplete:
    def __init__(self) -> None:
        self.waiting: list[str] = ["no deployment yet"]

    def __call__(self, objects: Objects) -> bool:
        conditions = {name: _Complete(name) for name in objects}
        self.waiting = [c.last for c in conditions.values() if not c(objects)]
        if not objects:
            self.waiting = ["no deployment in the namespace"]
        return not self.waiting

    def missing(self) -> str:
        return "; ".join(self.waiting)


class _OldPodsGone:
    def __init__(self, template_hash: str) -> None:
        self.template_hash = template_hash
        self.old: list[str] = []

    def __call__(self, objects: Objects) -> bool:
        self.old = sorted(name for name, pod in objects.items() if self._is_old(pod))
        return not self.old

    def _is_old(self, pod: RawObject) -> bool:
        labels = meta(pod).get("labels") or {}
        return labels.get(TEMPLATE_HASH_LABEL, self.template_hash) != self.template_hash

    def missing(self) -> str:
        shown = ", ".join(self.old[:10]) + (", ..." if len(self.old) > 10 else "")
        return f"complete, but {len(self.old)} old pods remain: {shown}"


def _owned_by(obj: RawObject, uid: str | None) -> bool:
    return any(ref.get("uid") == uid for ref in meta(obj).get("ownerReferences") or [])


def _revision(obj: RawObject) -> str | None:
    return (meta(obj).get("annotations") or {}).get(REVISION_ANNOTATION)


def _revision_number(obj: RawObject) -> int:
    text = _revision(obj) or ""
    return int(text) if text.isdigit() else -1
