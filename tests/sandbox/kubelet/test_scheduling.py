"""The kubelet's scheduler and node provisioner, on an injected clock: pods wait for the
scheduling delay, bind where their CPU request fits, stay Pending with FailedScheduling
where none does, and a provisioned node appears after its delay, up to ``max_nodes``."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet.events import EventRecorder, PodRef
from slagate.sandbox.kubelet.node import Node
from slagate.sandbox.kubelet.pool import WorkerPool
from slagate.sandbox.kubelet.probing import Prober
from slagate.sandbox.kubelet.processes import ExecRunner
from slagate.sandbox.kubelet.reactor import Reactor, Timer
from slagate.sandbox.kubelet.scheduling import Scheduler
from slagate.sandbox.objects.resources import EVENTS, NODES
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings
from tests.fakes import FakeClock

FULL = "0/1 nodes are available: 1 Insufficient cpu."


class SteppedReactor:
    """``call_at`` only, run by ``advance``: the clock moves and what is due runs, in order."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()

    def call_at(self, when_s: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(when_s, callback)
        heapq.heappush(self._timers, (when_s, next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> None:
        end = self.clock.now_s + seconds
        while self._timers and self._timers[0][0] <= end:
            when_s, _, timer = heapq.heappop(self._timers)
            self.clock.now_s = max(self.clock.now_s, when_s)
            if not timer.cancelled:
                timer.callback()
        self.clock.now_s = end


class Pod:
    """A pod worker as the scheduler sees it."""

    def __init__(self, name: str, cpu: str) -> None:
        self.uid = f"uid-{name}"
        self.name = name
        resources = {"requests": {"cpu": cpu}}
        self.pod: dict[str, Any] = {
            "metadata": {"name": name, "namespace": "default", "uid": self.uid},
            "spec": {"containers": [{"name": "app", "resources": resources}]},
        }
        self.node: str | None = None
        self.pending: list[str] = []
        self.terminating = False

    @property
    def ref(self) -> PodRef:
        return PodRef("default", self.name, self.uid)

    def admit(self, node_name: str) -> None:
        self.node = node_name

    def unschedulable(self, message: str) -> None:
        self.pending.append(message)


def cluster(tmp_path: Path, **settings: Any) -> tuple[Scheduler, SteppedReactor, ObjectStore]:
    clock = FakeClock()
    store = ObjectStore(clock=clock.utc)
    reactor = SteppedReactor(clock)
    node = Node(
        store=store,
        settings=SandboxSettings.from_mapping({"timing": "compressed", **settings}, "test"),
        clock=clock,
        reactor=cast(Reactor, reactor),
        workers=WorkerPool(1, "unused"),
        prober=Prober(ExecRunner()),
        events=EventRecorder(store, clock, "kubelet"),
        scheduler_events=EventRecorder(store, clock, "default-scheduler"),
        cwd=tmp_path,
        logs_dir=tmp_path,
        python="python3",
        base_env={},
    )
    scheduler = Scheduler(node)
    scheduler.start()
    return scheduler, reactor, store


def failed_scheduling(store: ObjectStore) -> list[tuple[str, str, int]]:
    events = store.list(Selection(EVENTS, "default")).items
    return [
        (e["involvedObject"]["name"], e["message"], e["count"])
        for e in events
        if e["reason"] == "FailedScheduling"
    ]


def test_pods_bind_after_the_scheduling_delay_while_their_requests_fit(tmp_path: Path) -> None:
    scheduler, reactor, store = cluster(tmp_path, node_cpu_m=250)
    pods = [Pod(f"p{i}", "100m") for i in range(3)]
    for pod in pods:
        scheduler.schedule(pod)

    reactor.advance(0.04)  # compressed: 0.05 s scheduling delay
    assert [p.node for p in pods] == [None, None, None]
    reactor.advance(0.02)
    assert [p.node for p in pods] == ["slagate-sandbox", "slagate-sandbox", None]
    assert pods[2].pending == [FULL]
    assert failed_scheduling(store) == [("p2", FULL, 1)]
    [node] = store.list(Selection(NODES)).items
    assert node["status"]["allocatable"] == {"cpu": "250m", "pods": "110"}
    assert node["status"]["conditions"][0]["type"] == "Ready"

    scheduler.release(pods[0].uid)  # a bound pod is gone: its room goes to the waiting one
    assert pods[2].node == "slagate-sandbox"


def test_a_waiting_pod_gets_a_new_node_after_the_provisioning_delay(tmp_path: Path) -> None:
    scheduler, reactor, store = cluster(
        tmp_path, node_cpu_m=200, max_nodes=3, node_provisioning_delay_s=20
    )
    pods = [Pod(f"p{i}", "100m") for i in range(5)]
    for pod in pods:
        scheduler.schedule(pod)

    reactor.advance(0.05)
    assert [p.node for p in pods] == ["slagate-sandbox"] * 2 + [None] * 3
    reactor.advance(19.9)  # one node on its way, none there yet
    assert scheduler.nodes == ("slagate-sandbox",)
    reactor.advance(0.1)
    assert scheduler.nodes == ("slagate-sandbox", "slagate-sandbox-2")
    assert [p.node for p in pods] == ["slagate-sandbox"] * 2 + ["slagate-sandbox-2"] * 2 + [None]
    reactor.advance(20)  # p4 asked for the third node, the last one allowed
    assert pods[4].node == "slagate-sandbox-3"
    assert len(store.list(Selection(NODES)).items) == 3


def test_no_node_is_provisioned_past_max_nodes_or_for_a_pod_no_node_could_hold(
    tmp_path: Path,
) -> None:
    scheduler, reactor, _ = cluster(tmp_path, node_cpu_m=200, max_nodes=2)
    huge, small = Pod("huge", "300m"), Pod("small", "200m")
    scheduler.schedule(small)
    scheduler.schedule(huge)

    reactor.advance(600)
    assert (small.node, huge.node) == ("slagate-sandbox", None)
    assert scheduler.nodes == ("slagate-sandbox",)
    assert huge.pending == [FULL]


def test_a_pod_deleted_while_waiting_is_dropped(tmp_path: Path) -> None:
    scheduler, reactor, _ = cluster(tmp_path, node_cpu_m=100, max_nodes=2)
    first, second = Pod("a", "100m"), Pod("b", "100m")
    scheduler.schedule(first)
    scheduler.schedule(second)
    reactor.advance(0.05)
    second.terminating = True

    scheduler.release(first.uid)
    reactor.advance(60)
    assert second.node is None


def test_unlimited_capacity_binds_everything_and_shows_the_hosts_cores(tmp_path: Path) -> None:
    scheduler, reactor, store = cluster(tmp_path)
    pods = [Pod(f"p{i}", "4") for i in range(20)]
    for pod in pods:
        scheduler.schedule(pod)

    reactor.advance(0.05)
    assert {p.node for p in pods} == {"slagate-sandbox"}
    [node] = store.list(Selection(NODES)).items
    assert node["status"]["allocatable"]["cpu"].isdigit()
