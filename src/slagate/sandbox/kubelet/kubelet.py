"""The sandbox kubelet: runs every pod of the store as real processes on this machine.

Threads (all daemon threads; ``stop`` ends and joins them):

- ``kubelet-loop`` (``Reactor``): every decision about pods and containers, in order:
  scheduling and node provisioning (``Scheduler``), admission, starts, probe scheduling
  and results, restarts with back-off, preStop, SIGTERM, SIGKILL, status writes and
  Events. It also spawns the containers, so their ``PR_SET_PDEATHSIG`` lasts as long as
  the kubelet.
- ``kubelet-watch``: ``store.list`` then ``store.watch(since=revision)`` over all pods,
  handing each batch of events to the loop (re-lists after ``Expired``).
- ``kubelet-probe-N`` (``WorkerPool``, 8 threads): probe requests and exec probes.
- ``kubelet-metrics``: samples each pod's process-tree CPU (nanoseconds) every
  ``metrics_resolution_s`` for ``pod_cpu`` (the HPA's ``PodMetricsSource``).
  ``container_cpu`` (cAdvisor's counter, a ``ContainerCpuSource``) reads the same
  process trees when it is called, on the caller's thread.
- ``kubelet-prestop-*``: one short-lived thread per running exec/httpGet preStop hook,
  bounded by the grace period (a sleep hook is a timer, no thread).

Pod and container state lives on the loop thread only; the lock guards what other
threads read: CPU samples, the process ids they come from, the open watch.
"""

from __future__ import annotations

import enum
import functools
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from types import TracebackType

from slagate.children import child_environment
from slagate.errors import ApiError, Expired
from slagate.sandbox.apiserver.deleting import DeleteOptions, GracefulDeletion
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watching import EventType, Watcher, WatchEvent
from slagate.sandbox.kubelet.cgroups import CpuLimits
from slagate.sandbox.kubelet.events import EventRecorder
from slagate.sandbox.kubelet.network import PodNetwork
from slagate.sandbox.kubelet.node import NODE_NAME, Node
from slagate.sandbox.kubelet.pidnamespaces import PidIsolation, probe_isolation
from slagate.sandbox.kubelet.pods import PodKey, PodWorker
from slagate.sandbox.kubelet.pool import WorkerPool
from slagate.sandbox.kubelet.probing import Prober
from slagate.sandbox.kubelet.processes import ExecRunner
from slagate.sandbox.kubelet.reactor import Reactor
from slagate.sandbox.kubelet.sampling import CpuSampler, HostProcesses, tree_memory_bytes
from slagate.sandbox.kubelet.scheduling import Scheduler
from slagate.sandbox.metrics import ContainerCpuTime, PodCpu
from slagate.sandbox.objects.bodies import RawObject, mapping_at, metadata, name_of, namespace_of
from slagate.sandbox.objects.quantities import cpu_limit_m
from slagate.sandbox.objects.resources import PODS
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings

logger = logging.getLogger(__name__)

PROBE_WORKERS = 8
JOIN_TIMEOUT_S = 5.0
"""How long ``stop`` waits for each thread, and for the loop to answer."""
EXIT_MARGIN_S = 3.0
"""Beyond the last SIGKILL, how long ``stop`` waits for processes to be reaped."""
_WATCH_POLL_S = 30.0
_RETRY_S = 1.0
_REMEMBERED_UIDS = 4096
_TERMINAL_PHASES = ("Succeeded", "Failed")


class _Lifecycle(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class Kubelet:
    """Runs the pods of ``store`` as processes; a ``PodMetricsSource`` and a
    ``ContainerCpuSource``.

    ``state_dir``: pod logs go to ``state_dir/pods/<namespace>_<name>.log``.
    ``pod_network``: where pod IPs come from. ``clock``: wall time in seconds, for
    timestamps and every timer (it must advance like wall time). Containers run in the
    current directory (as at construction), with this interpreter for ``python``.
    """

    def __init__(
        self,
        store: ObjectStore,
        settings: SandboxSettings,
        state_dir: Path,
        pod_network: PodNetwork,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settings = settings
        self._network = pod_network
        self._clock = clock
        self._reactor = Reactor(clock)
        self._runner = ExecRunner()
        self._pool = WorkerPool(PROBE_WORKERS, "kubelet-probe")
        self._node = Node(
            store=store,
            settings=settings,
            clock=clock,
            reactor=self._reactor,
            workers=self._pool,
            prober=Prober(self._runner),
            events=EventRecorder(store, clock, "kubelet", NODE_NAME),
            scheduler_events=EventRecorder(store, clock, "default-scheduler"),
            cwd=state_dir,  # a container sees its own filesystem: the sandbox state dir
            logs_dir=state_dir / "pods",
            python=sys.executable,
            base_env=child_environment(),
            pid_isolation=probe_isolation(),
        )
        self._scheduler = Scheduler(self._node)
        self._limits = CpuLimits.detect(state_dir)
        self._processes = HostProcesses()
        self._sampler = CpuSampler(clock, self._processes)
        # loop thread only
        self._workers: dict[str, PodWorker] = {}
        self._finished_uids: OrderedDict[str, None] = OrderedDict()
        self._dirty: set[str] = set()
        self._flush_due = False
        self._shutting_down = False
        # shared, under the lock
        self._lock = threading.Lock()
        self._roots: dict[PodKey, tuple[int, ...]] = {}
        self._containers: dict[PodKey, tuple[tuple[str, int], ...]] = {}
        self._cpu: dict[PodKey, PodCpu] = {}
        self._memory: dict[PodKey, int] = {}
        self._watcher: Watcher | None = None
        self._stopping = threading.Event()
        self._drained = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lifecycle = _Lifecycle.NEW

    @property
    def pod_network(self) -> PodNetwork:
        return self._network

    @property
    def cpu_limits(self) -> str:
        """What enforces the containers' CPU limits, or why nothing does (one line)."""
        return self._limits.mechanism

    @property
    def pid_isolation(self) -> PidIsolation:
        """Whether its containers run as PID 1 of their own PID namespace, and if not why."""
        return self._node.pid_isolation

    def start(self) -> None:
        """Install graceful pod deletion in the store and start the threads."""
        if self._lifecycle is not _Lifecycle.NEW:
            raise RuntimeError("a Kubelet starts once")
        self._lifecycle = _Lifecycle.RUNNING
        self._node.logs_dir.mkdir(parents=True, exist_ok=True)
        self._store.set_delete_hook(PODS, GracefulDeletion(clock=self._store.now))
        self._limits.clean()
        self._reactor.call_soon(self._scheduler.start)
        self._pool.start()
        for name, target in (
            ("kubelet-loop", self._reactor.run),
            ("kubelet-watch", self._watch_pods),
            ("kubelet-metrics", self._sample_cpu),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float | None = None) -> None:
        """Terminate every pod as a node shutdown does, then end the threads.

        Each container gets its preStop hook, SIGTERM and SIGKILL at the end of its
        grace period; ``stop`` waits until the last of them is due (plus a margin), or
        ``timeout_s`` if given, then SIGKILLs what is left. Pod objects stay in the
        store with their final status; deletes no longer wait for a kubelet.
        """
        if self._lifecycle is _Lifecycle.NEW:
            self._reactor.close()
        if self._lifecycle is not _Lifecycle.RUNNING:
            self._lifecycle = _Lifecycle.STOPPED
            return
        self._lifecycle = _Lifecycle.STOPPED
        self._stopping.set()
        with self._lock:
            watcher = self._watcher
        if watcher is not None:
            watcher.close("kubelet stopping")
        loop, watch, metrics = self._threads
        watch.join(JOIN_TIMEOUT_S)
        try:
            bound_s = self._reactor.call(self._shut_down).result(JOIN_TIMEOUT_S)
        except FutureTimeout:
            bound_s = 0.0
        self._drained.wait(bound_s + EXIT_MARGIN_S if timeout_s is None else timeout_s)
        try:
            self._reactor.call(self._kill_remaining).result(JOIN_TIMEOUT_S)
        except FutureTimeout:
            logger.error("kubelet loop did not answer; pods may be left running")
        self._reactor.stop()
        loop.join(JOIN_TIMEOUT_S)
        self._runner.kill_all()
        self._pool.stop(JOIN_TIMEOUT_S)
        metrics.join(JOIN_TIMEOUT_S)
        self._reactor.close()
        self._limits.close()
        self._store.set_delete_hook(PODS, None)

    def pod_cpu(self, namespace: str, name: str) -> PodCpu | None:
        with self._lock:
            return self._cpu.get((namespace, name))

    def pod_memory(self, namespace: str, name: str) -> int | None:
        with self._lock:
            return self._memory.get((namespace, name))

    def container_cpu(self) -> list[ContainerCpuTime]:
        """Each running container's CPU seconds so far: its process tree, read now."""
        with self._lock:
            containers = dict(self._containers)
        times = []
        for (namespace, pod), running in sorted(containers.items()):
            for container, pid in running:
                used_ns = self._processes.tree_cpu_ns((pid,))
                if used_ns is not None:
                    times.append(ContainerCpuTime(namespace, pod, container, used_ns / 1e9))
        return times

    def __enter__(self) -> Kubelet:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- watch thread ------------------------------------------------------------------

    def _watch_pods(self) -> None:
        selection = Selection(PODS)
        while not self._stopping.is_set():
            try:
                snapshot = self._store.list(selection)
                self._reactor.call_soon(functools.partial(self._reconcile, snapshot.items))
                with self._store.watch(selection, since=snapshot.revision) as watcher:
                    self._follow(watcher)
            except Expired:
                logger.info("kubelet pod watch expired; listing again")
            except Exception:
                logger.exception("kubelet pod watch failed; listing again")
                self._stopping.wait(_RETRY_S)

    def _follow(self, watcher: Watcher) -> None:
        with self._lock:
            self._watcher = watcher
        while not self._stopping.is_set() and not watcher.closed:
            events = watcher.poll(_WATCH_POLL_S)
            if events:
                self._reactor.call_soon(functools.partial(self._handle, events))

    # -- metrics thread ----------------------------------------------------------------

    def _sample_cpu(self) -> None:
        while True:
            with self._lock:
                roots = dict(self._roots)
            samples = self._sampler.sample(roots)
            memory = _memory_of(roots, samples)
            with self._lock:
                self._cpu.update(samples)
                self._memory.update(memory)
            if self._stopping.wait(self._settings.metrics_resolution_s):
                return

    # -- loop thread -------------------------------------------------------------------

    def _reconcile(self, items: list[RawObject]) -> None:
        """After a (re-)list: follow every listed pod, forget the ones not listed."""
        listed = {str(metadata(obj).get("uid")) for obj in items}
        for worker in list(self._workers.values()):
            if worker.uid not in listed:
                worker.remove()
        for obj in items:
            self._pod_seen(obj)

    def _handle(self, events: list[WatchEvent]) -> None:
        for event in events:
            if event.type is EventType.DELETED:
                worker = self._workers.get(str(metadata(event.object).get("uid")))
                if worker is not None:
                    worker.remove()
            else:
                self._pod_seen(event.object)

    def _pod_seen(self, pod: RawObject) -> None:
        uid = str(metadata(pod).get("uid"))
        worker = self._workers.get(uid)
        if worker is not None:
            worker.update(pod)
            return
        if self._shutting_down or uid in self._finished_uids:
            return
        if mapping_at(pod, "status").get("phase") in _TERMINAL_PHASES:
            return
        if metadata(pod).get("deletionTimestamp") is not None:
            self._remove_unstarted(pod, uid)
            return
        worker = PodWorker(pod, self._node, self._network, self)
        self._workers[uid] = worker
        self._scheduler.schedule(worker)

    def _remove_unstarted(self, pod: RawObject, uid: str) -> None:
        """A pod deleted before it ever ran here: nothing to stop, remove it."""
        self._remember(uid)
        options = DeleteOptions(grace_period_seconds=0, precondition_uid=uid)
        try:
            self._store.delete(PODS, namespace_of(pod), name_of(pod), options)
        except ApiError as error:
            logger.debug("pod %s not removed: %s", name_of(pod), error)

    def pod_changed(self, worker: PodWorker) -> None:
        self._dirty.add(worker.uid)
        self._schedule_flush()

    def pod_completed(self, worker: PodWorker) -> None:
        self._scheduler.release(worker.uid)

    def pod_finished(self, worker: PodWorker) -> None:
        self._workers.pop(worker.uid, None)
        self._scheduler.release(worker.uid)
        self._limits.release(worker.uid)
        self._remember(worker.uid)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_due:
            self._flush_due = True
            self._reactor.call_soon(self._flush)

    def _flush(self) -> None:
        """Write the statuses that changed (once per batch of callbacks), then publish
        the process ids the CPU sampler reads."""
        self._flush_due = False
        dirty, self._dirty = self._dirty, set()
        for uid in dirty:
            worker = self._workers.get(uid)
            if worker is not None and not worker.finished:
                worker.publish()
        roots = {w.key: pids for w in self._workers.values() if (pids := w.process_ids())}
        containers = {w.key: c for w in self._workers.values() if (c := w.container_processes())}
        self._limit_cpu()
        with self._lock:
            self._roots = roots
            self._containers = containers
            self._cpu = {key: cpu for key, cpu in self._cpu.items() if key in roots}
            self._memory = {key: used for key, used in self._memory.items() if key in roots}
        if self._shutting_down and not self._workers:
            self._drained.set()

    def _limit_cpu(self) -> None:
        """Each running container with a CPU limit into its cgroup (once per process)."""
        if not self._limits.enforced:
            return
        for worker in self._workers.values():
            for container, pid in worker.container_processes():
                limit_m = cpu_limit_m(worker.pod, container)
                if limit_m is not None:
                    self._limits.limit(worker.uid, container, pid, limit_m)

    def _shut_down(self) -> float:
        self._shutting_down = True
        bound_s = max((w.shut_down() for w in list(self._workers.values())), default=0.0)
        self._schedule_flush()
        return bound_s

    def _kill_remaining(self) -> None:
        for worker in list(self._workers.values()):
            worker.kill_remaining(JOIN_TIMEOUT_S / 2)

    def _remember(self, uid: str) -> None:
        self._finished_uids[uid] = None
        if len(self._finished_uids) > _REMEMBERED_UIDS:
            self._finished_uids.popitem(last=False)


def _memory_of(
    roots: dict[PodKey, tuple[int, ...]], samples: dict[PodKey, PodCpu]
) -> dict[PodKey, int]:
    """Each sampled pod's memory now, read with its CPU sample as metrics-server reads
    both in one scrape."""
    memory = {}
    for key in samples:
        used = tree_memory_bytes(roots[key])
        if used is not None:
            memory[key] = used
    return memory
