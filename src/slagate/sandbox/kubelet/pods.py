"""One pod on the node: admission, its address, its containers, deletion and status.

Loop thread only, like the containers. A pod is admitted (bound to the node, given an
IP, status Pending), its containers start, and from then on every change a status shows
is written back through ``/status`` by the kubelet's flush. Deletion (a
``deletionTimestamp``) terminates every container with the pod's
``deletionGracePeriodSeconds``; once all have stopped the kubelet writes the final
status and removes the object, as the real kubelet's delete with grace 0 does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from pathlib import Path
from typing import Protocol

from slagate.errors import ApiError, NotFound, PodNetworkExhausted
from slagate.sandbox.apiserver.deleting import DeleteOptions
from slagate.sandbox.kubelet.configsources import ConfigSources
from slagate.sandbox.kubelet.containers import ContainerWorker, Launch
from slagate.sandbox.kubelet.environment import (
    expand,
    pod_fields,
    resolve_env,
    service_env,
)
from slagate.sandbox.kubelet.events import NORMAL, WARNING, PodRef
from slagate.sandbox.kubelet.images import container_argv, image_config, pull_problem
from slagate.sandbox.kubelet.initializing import (
    due_init,
    failed_for_good,
    has_done_its_part,
    incomplete,
    init_policy,
)
from slagate.sandbox.kubelet.network import PodNetwork
from slagate.sandbox.kubelet.node import Node
from slagate.sandbox.kubelet.specs import ContainerSpec, PodSpec, RestartPolicy, parse_pod_spec
from slagate.sandbox.kubelet.status import ContainerView, PodView, render_status
from slagate.sandbox.kubelet.termination import MINIMUM_GRACE_S
from slagate.sandbox.kubelet.volumes import mount_volumes, remove_volumes
from slagate.sandbox.objects.bodies import RawObject, mapping_at, metadata, name_of, namespace_of
from slagate.sandbox.objects.resources import PODS, SERVICES
from slagate.sandbox.objects.selection import Selection

logger = logging.getLogger(__name__)

PodKey = tuple[str, str]
"""(namespace, name)"""
ADDRESS_RETRY_S = 1.0
"""How soon a pod that found the pod network full tries again."""


class PodHost(Protocol):
    """What a pod worker tells the kubelet."""

    def pod_changed(self, worker: PodWorker) -> None:
        """Its status needs writing."""
        ...

    def pod_finished(self, worker: PodWorker) -> None:
        """It is done: every process gone, the object removed (or the kubelet stopping)."""
        ...

    def pod_completed(self, worker: PodWorker) -> None:
        """Every container ended for good (Succeeded or Failed), the object stays: the
        pod no longer takes room on its node."""
        ...


class PodWorker:
    """Runs one pod (identified by its uid); loop thread only."""

    def __init__(self, pod: RawObject, node: Node, network: PodNetwork, host: PodHost) -> None:
        self.pod = pod
        self.spec: PodSpec = parse_pod_spec(pod)
        self.key: PodKey = (namespace_of(pod), name_of(pod))
        self.uid = str(metadata(pod).get("uid", ""))
        self.deleting = False
        self.shutting_down = False
        self.removed = False
        self.finished = False
        self._node = node
        self._network = network
        self._host = host
        self._ip: str | None = None
        self._ip_held = False
        self._node_name = node.name
        self._unschedulable: str | None = None
        self._start_s = 0.0
        self._deletion_grace_s = self.spec.grace_s
        self._terminated_s: float | None = None
        policy, waiting = self.spec.restart_policy, "PodInitializing"
        self._inits = [
            ContainerWorker(c, self, node, init_policy(c.sidecar, policy), waiting)
            for c in self.spec.init_containers
        ]
        if not self._inits:
            waiting = "ContainerCreating"
        self._containers = [
            ContainerWorker(c, self, node, None, waiting) for c in self.spec.containers
        ]
        self._starting = False
        self._launched_inits = 0
        self._init_over = False
        """The app containers started, or initialization failed for good."""

    # -- PodOwner (what containers ask) ------------------------------------------------

    @property
    def ref(self) -> PodRef:
        return PodRef(self.key[0], self.key[1], self.uid)

    @property
    def pod_ip(self) -> str:
        return self._ip or ""

    @property
    def restart_policy(self) -> RestartPolicy:
        return self.spec.restart_policy

    @property
    def grace_s(self) -> int:
        return self.spec.grace_s

    @property
    def terminating(self) -> bool:
        return self.deleting or self.shutting_down or self.removed

    @property
    def log_path(self) -> Path:
        return self._node.logs_dir / f"{self.key[0]}_{self.key[1]}.log"

    @property
    def volumes_dir(self) -> Path:
        """Where the pod's configMap/secret volumes are written (``volumes``); the uid
        keeps a pod that reuses a name apart from the one still stopping."""
        return self._node.logs_dir / f"{self.key[0]}_{self.key[1]}_{self.uid}" / "volumes"

    def launch(self, spec: ContainerSpec) -> Launch:
        image_config(spec.image)
        fields = pod_fields(self.pod, self.pod_ip, self._node.host_ip, self._node_name)
        config = ConfigSources(self._node.store, self.key[0])
        base = {**self._service_env(), **config.sourced_env(spec.env_from)}
        env = resolve_env(spec.env, fields, base, config.key_value)
        command = [expand(part, env) for part in spec.command]
        args = [expand(part, env) for part in spec.args]
        argv = container_argv(spec.image, command, args, self._node.python)
        mounts = mount_volumes(self.pod, spec.name, self.volumes_dir, config)
        return Launch(tuple(argv), {**self._node.base_env, **env, **mounts})

    def changed(self) -> None:
        self._host.pod_changed(self)
        if not self._init_over:
            self._node.reactor.call_soon(self._initialize)

    def container_done(self) -> None:
        self._node.reactor.call_soon(self._check_done)

    # -- what the kubelet asks ---------------------------------------------------------

    def admit(self, node_name: str) -> None:
        """Bound to ``node_name`` (by the scheduler, ``kubelet.scheduling``): record the
        binding, take an address, write Pending, pull the image and start the containers."""
        self._node_name = node_name
        self._unschedulable = None
        self._start_s = self._node.clock()
        self._bind()
        self._take_address()

    def unschedulable(self, message: str) -> None:
        """No node has room (``message`` says why): Pending, ``PodScheduled=False``."""
        if message != self._unschedulable:
            self._unschedulable = message
            self.changed()

    def update(self, pod: RawObject) -> None:
        """A newer version of the object (ours included): follow a deletion, and a
        readiness gate's condition that someone else set (upstream's kubelet reconciles
        Ready on such a pod update at once)."""
        self.pod = pod
        if self.spec.readiness_gates:
            self.changed()
        meta = metadata(pod)
        if meta.get("deletionTimestamp") is None or self.removed:
            return
        grace = meta.get("deletionGracePeriodSeconds")
        grace_s = grace if isinstance(grace, int) else self.spec.grace_s
        if not self.deleting:
            self.deleting = True
            self._deletion_grace_s = grace_s
            self._terminate(grace_s)
        elif grace_s < self._deletion_grace_s:
            self._deletion_grace_s = grace_s
            for container in self._all():
                container.shorten(grace_s)

    def remove(self) -> None:
        """The object is gone from the store (deleted with grace 0): kill at once."""
        self.removed = True
        for container in self._all():
            container.kill_now()
        self._node.reactor.call_soon(self._check_done)

    def shut_down(self) -> float:
        """The kubelet stops: terminate as a deletion would, but keep the object.
        Returns the seconds within which every SIGKILL is due."""
        was_terminating = self.terminating
        self.shutting_down = True
        if not was_terminating:
            self._terminate(self.spec.grace_s)
        self._node.reactor.call_soon(self._check_done)
        return float(max(self._deletion_grace_s, 0) + MINIMUM_GRACE_S)

    def kill_remaining(self, timeout_s: float) -> None:
        """SIGKILL whatever still runs and wait for it (the kubelet's last resort)."""
        for container in self._all():
            container.kill_now()
            container.reap(timeout_s)
        self._release_address()

    def process_ids(self) -> tuple[int, ...]:
        return tuple(pid for c in self._all() if (pid := c.pid) is not None)

    def container_processes(self) -> tuple[tuple[str, int], ...]:
        """``(container name, process id)`` of each running container."""
        return tuple((c.spec.name, pid) for c in self._all() if (pid := c.pid) is not None)

    def publish(self) -> None:
        """Write the status (through ``/status``); an unchanged status writes nothing."""
        view = self._view()
        uid, clock = self.uid, self._node.clock

        def write_status(current: RawObject) -> RawObject:
            if metadata(current).get("uid") == uid:
                current["status"] = render_status(view, mapping_at(current, "status"), clock())
            return current

        with contextlib.suppress(NotFound):  # gone: its DELETED event is on the way
            self._node.store.modify(PODS, *self.key, write_status, subresource="status")

    # -- internals ---------------------------------------------------------------------

    def _service_env(self) -> dict[str, str]:
        if not self.spec.service_links:
            return {}
        services = self._node.store.list(Selection(SERVICES, self.key[0])).items
        return service_env(services)

    def _bind(self) -> None:
        """What the scheduler would do: set ``spec.nodeName`` (a binding), Event Scheduled."""
        if mapping_at(self.pod, "spec").get("nodeName"):
            return
        uid, node = self.uid, self._node_name

        def bind(current: RawObject) -> RawObject:
            if metadata(current).get("uid") == uid:
                current.setdefault("spec", {})["nodeName"] = node
            return current

        try:
            self.pod = self._node.store.modify(PODS, *self.key, bind)
        except ApiError as error:
            logger.warning("could not bind pod %s/%s: %s", *self.key, error)
            return
        message = f"Successfully assigned {self.key[0]}/{self.key[1]} to {node}"
        self._node.scheduler_events.record(self.ref, NORMAL, "Scheduled", message)

    def _take_address(self) -> None:
        if self.terminating:
            return
        try:
            self._ip = self._network.allocate()
        except PodNetworkExhausted as error:
            self._event(WARNING, "FailedCreatePodSandBox", str(error))
            self._node.reactor.call_at(self._node.clock() + ADDRESS_RETRY_S, self._take_address)
            return
        self._ip_held = True
        self.changed()  # Pending, with the address, containers ContainerCreating
        settings = self._node.settings
        pull_s, start_s = settings.image_pull_delay_s, settings.pod_start_delay_s
        if pull_s:
            self._container_events("Pulling", 'Pulling image "{image}"')
        now = self._node.clock()
        self._node.reactor.call_at(now + pull_s, functools.partial(self._pulled, pull_s))
        self._node.reactor.call_at(now + pull_s + start_s, self._start_containers)

    def _pulled(self, pull_s: float) -> None:
        if pull_s and not self.terminating:
            message = f'Successfully pulled image "{{image}}" in {pull_s:g}s'
            self._container_events("Pulled", message)

    def _container_events(self, reason: str, message: str) -> None:
        """``reason`` for each container, init containers first, whose image is there to
        pull (a failing pull says so itself, when the container starts)."""
        for spec in (*self.spec.init_containers, *self.spec.containers):
            if pull_problem(spec.image) is None:
                ref = self.ref.for_container(spec.name, spec.init)
                self._node.events.record(ref, NORMAL, reason, message.format(image=spec.image))

    def _start_containers(self) -> None:
        """Initialization begins: the init containers in order, then the app containers
        (``_initialize``, run again at every change until it is over)."""
        self._starting = True
        self._initialize()

    # -- init containers and sidecars (decisions in ``initializing``) --------------------

    def _all(self) -> list[ContainerWorker]:
        return [*self._inits, *self._containers]

    def _main(self) -> list[ContainerWorker]:
        """Every container but the sidecars: those stop after these have."""
        return [c for c in self._all() if not c.spec.sidecar]

    def _initialize(self) -> None:
        """Start the init container that initialization waits for, or, once every one
        has done its part, the app containers; give up on a failure under ``Never``."""
        if self._init_over or self.terminating or not self._starting:
            return
        views = [c.view() for c in self._inits]
        due = due_init(views)
        if due == len(views):
            self._init_over = True
            for container in self._containers:
                container.start()
        elif due == self._launched_inits:
            self._launched_inits += 1
            self._inits[due].start()
        elif failed_for_good(views[due], self.spec.restart_policy):
            self._init_over = True  # the pod fails: nothing else will start
            for container in self._main():
                container.terminate(self.spec.grace_s)
            self._node.reactor.call_soon(self._check_done)

    def _stop_sidecars(self) -> bool:
        """Once every other container has stopped: stop the sidecars, last first, each
        with what is left of the pod's grace period (at least 2 s). True while any runs."""
        live = [c for c in self._inits if c.spec.sidecar and not c.done]
        if not live:
            return False
        grace_s = self.spec.grace_s
        if self._terminated_s is not None:
            left_s = self._terminated_s + self._deletion_grace_s - self._node.clock()
            grace_s = max(int(left_s), MINIMUM_GRACE_S)
        live[-1].terminate(grace_s)
        return True

    # -- termination -------------------------------------------------------------------

    def _terminate(self, grace_s: int) -> None:
        self._terminated_s = self._node.clock()
        for container in self._main():
            container.terminate(grace_s)
        self._node.reactor.call_soon(self._check_done)

    def _check_done(self) -> None:
        if self.finished or not all(c.done for c in self._main()) or self._stop_sidecars():
            return
        self._release_address()
        if not self.terminating:  # every container ended for good: a completed pod
            self._host.pod_completed(self)
            self.changed()
            return
        self.finished = True
        remove_volumes(self.volumes_dir.parent)
        if not self.removed:
            self.publish()
        if self.deleting and not self.removed:
            self._remove_object()
        self._host.pod_finished(self)

    def _remove_object(self) -> None:
        options = DeleteOptions(grace_period_seconds=0, precondition_uid=self.uid)
        try:
            self._node.store.delete(PODS, *self.key, options)
        except ApiError as error:  # gone already, or a new pod took the name
            logger.debug("pod %s/%s not removed: %s", *self.key, error)

    def _release_address(self) -> None:
        if self._ip_held and self._ip is not None:
            self._network.release(self._ip)
            self._ip_held = False

    def _view(self) -> PodView:
        inits = tuple(self._init_view(c) for c in self._inits)
        policy = self.spec.restart_policy
        return PodView(
            init_containers=inits,
            incomplete_inits=() if self._init_over else tuple(incomplete(inits)),
            init_failed=any(failed_for_good(view, policy) for view in inits),
            containers=tuple(c.view() for c in self._containers),
            restart_policy=self.spec.restart_policy,
            pod_ip=self._ip,
            host_ip=self._node.host_ip,
            start_s=self._start_s,
            terminal=self.finished,
            readiness_gates=self.spec.readiness_gates,
            unschedulable=self._unschedulable,
        )

    @staticmethod
    def _init_view(container: ContainerWorker) -> ContainerView:
        """A regular init container that exited 0 shows ready, as upstream's does."""
        view = container.view()
        if not view.sidecar and has_done_its_part(view):
            return dataclasses.replace(view, ready=True)
        return view

    def _event(self, type_: str, reason: str, message: str) -> None:
        self._node.events.record(self.ref, type_, reason, message)
