"""The sandbox's scheduler and node provisioner: which node a new pod is bound to, when,
and whether a node is added for pods that fit none.

Loop thread only (the kubelet's ``Reactor``), like the pod workers it places. The decisions
are ``slagate.sandbox.decisions.scheduling``; this keeps the state: the nodes (each a
``Node`` object in the API, as ``kubectl get nodes`` shows them), the CPU each bound pod
requests until it is gone, the pods waiting for room, and the one node being provisioned.

A new pod is placed ``pod_scheduling_delay_s`` after the kubelet sees it. If it fits, it
is bound and admitted (``PodWorker.admit``); if not, it stays Pending with
``PodScheduled=False`` reason ``Unschedulable`` and a ``FailedScheduling`` Event, and is
placed again whenever room may have appeared: a bound pod gone, a node added. With
``max_nodes`` above the node count, a pod that would fit an empty node asks for one, which
appears ``node_provisioning_delay_s`` later (Cluster Autoscaler / Karpenter).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any, Protocol

from slagate.errors import ApiError
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.decisions.scheduling import (
    NodeUse,
    choose_node,
    fits_new_node,
    should_provision,
    unschedulable_message,
)
from slagate.sandbox.kubelet.events import WARNING, PodRef
from slagate.sandbox.kubelet.node import Node
from slagate.sandbox.kubelet.reactor import Timer
from slagate.sandbox.kubelet.status import timestamp
from slagate.sandbox.objects.bodies import RawObject, mapping_at
from slagate.sandbox.objects.quantities import scheduled_cpu_m
from slagate.sandbox.objects.resources import NODES

logger = logging.getLogger(__name__)


class Placeable(Protocol):
    """What the scheduler asks of a pod worker."""

    uid: str
    pod: RawObject

    @property
    def ref(self) -> PodRef: ...

    @property
    def terminating(self) -> bool: ...

    def admit(self, node_name: str) -> None:
        """Bound to ``node_name``: take it from here (address, image, containers)."""
        ...

    def unschedulable(self, message: str) -> None:
        """Fits no node: show Pending, ``PodScheduled=False`` with ``message``."""
        ...


class Scheduler:
    """Binds the kubelet's pods to nodes of ``node.settings``' capacity; adds nodes."""

    def __init__(self, node: Node) -> None:
        self._node = node
        settings = node.settings
        self._cpu_m = settings.node_cpu_m
        self._pods = settings.node_max_pods
        self._nodes: list[str] = []
        self._bound: dict[str, tuple[str, int]] = {}  # pod uid -> (node, CPU request m)
        self._waiting: dict[str, Placeable] = {}
        self._provisioning: Timer | None = None

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._nodes)

    def start(self) -> None:
        """Register the first node."""
        self._add_node(self._node.name)

    def schedule(self, worker: Placeable) -> None:
        """A pod the kubelet has just seen: admit it where it is bound, or place it after
        the scheduling delay."""
        bound_to = mapping_at(worker.pod, "spec").get("nodeName")
        if isinstance(bound_to, str) and bound_to:
            self._bound[worker.uid] = (bound_to, _request_m(worker))
            worker.admit(bound_to)
            return
        due_s = self._node.clock() + self._node.settings.pod_scheduling_delay_s
        self._node.reactor.call_at(due_s, functools.partial(self._place, worker))

    def release(self, uid: str) -> None:
        """The pod is gone: its room is free, waiting pods are placed again."""
        self._waiting.pop(uid, None)
        if self._bound.pop(uid, None) is not None:
            self._place_waiting()

    # -- internals ---------------------------------------------------------------------

    def _place(self, worker: Placeable) -> None:
        if worker.terminating:
            self._waiting.pop(worker.uid, None)
            return
        request_m = _request_m(worker)
        uses = self._uses()
        chosen = choose_node(uses, request_m)
        if chosen is None:
            self._unschedulable(worker, unschedulable_message(uses, request_m))
            return
        self._waiting.pop(worker.uid, None)
        self._bound[worker.uid] = (chosen, request_m)
        worker.admit(chosen)

    def _unschedulable(self, worker: Placeable, message: str) -> None:
        self._waiting[worker.uid] = worker
        worker.unschedulable(message)
        self._node.scheduler_events.record(worker.ref, WARNING, "FailedScheduling", message)
        self._provision()

    def _place_waiting(self) -> None:
        for worker in list(self._waiting.values()):
            self._place(worker)

    def _uses(self) -> list[NodeUse]:
        uses = {name: NodeUse(name, self._cpu_m, self._pods) for name in self._nodes}
        for node, request_m in self._bound.values():
            if node in uses:
                uses[node] = uses[node].bound(request_m)
        return list(uses.values())

    def _provision(self) -> None:
        settings = self._node.settings
        wanting = sum(
            fits_new_node(self._cpu_m, self._pods, _request_m(w)) for w in self._waiting.values()
        )
        provisioning = self._provisioning is not None
        if should_provision(wanting, len(self._nodes), provisioning, settings.max_nodes):
            due_s = self._node.clock() + settings.node_provisioning_delay_s
            self._provisioning = self._node.reactor.call_at(due_s, self._provisioned)

    def _provisioned(self) -> None:
        self._provisioning = None
        self._add_node(f"{self._node.name}-{len(self._nodes) + 1}")
        self._place_waiting()

    def _add_node(self, name: str) -> None:
        self._nodes.append(name)
        try:
            register_node(self._node.store, name, self._cpu_m, self._pods, self._node.clock())
        except ApiError as error:  # the scheduler goes on: the API object is for people
            logger.warning("could not register node %s: %s", name, error)


def register_node(store: ObjectStore, name: str, cpu_m: int, pods: int, now_s: float) -> None:
    """Create the ``Node`` object with its allocatable CPU (the host's cores when the
    capacity is unlimited) and pods, Ready."""
    store.create(NODES, {"metadata": {"name": name, "labels": _labels(name)}, "spec": {}})
    status = _node_status(name, cpu_m, pods, timestamp(now_s))

    def write(current: RawObject) -> RawObject:
        current["status"] = status
        return current

    store.modify(NODES, None, name, write, subresource="status")


def _labels(name: str) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": os.uname().machine,
    }


def _node_status(name: str, cpu_m: int, pods: int, now: str) -> dict[str, Any]:
    cpu = f"{cpu_m}m" if cpu_m else str(os.cpu_count() or 1)
    resources = {"cpu": cpu, "pods": str(pods)}
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    return {
        "capacity": resources,
        "allocatable": resources,
        "conditions": [ready],
        "addresses": [
            {"type": "InternalIP", "address": "127.0.0.1"},
            {"type": "Hostname", "address": name},
        ],
        "nodeInfo": {"operatingSystem": "linux", "architecture": os.uname().machine},
    }


def _request_m(worker: Placeable) -> int:
    return scheduled_cpu_m(worker.pod)
