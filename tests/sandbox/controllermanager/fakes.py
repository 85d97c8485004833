"""Shared fakes for the controller-loop tests in this folder; no tests of its own.

``Sandbox`` runs a real ``ControllerManager`` over a real ``ObjectStore`` with a fake clock
and a ``FakeKubelet``: the test plays the kubelet by hand, one transition at a time, and
lets the controllers settle (``settle``) between steps. No processes, no sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slagate.sandbox.apiserver.deleting import DeleteOptions, GracefulDeletion
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager import ControllerManager
from slagate.sandbox.metrics import StaticMetrics
from slagate.sandbox.objects.bodies import (
    RawObject,
    labels_of,
    mapping_at,
    metadata,
    name_of,
    rfc3339,
)
from slagate.sandbox.objects.resources import EVENTS, PODS, REPLICASETS, ResourceType
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings
from tests.fakes import FakeClock

NS = "default"
QUIET_SETTINGS = SandboxSettings(hpa_sync_period_s=3600.0)
"""HPAs sync only when a test calls ``resync``, so every sync is one the test chose."""


class FakeKubelet:
    """Does by hand what the kubelet does: starts pods (IP, phase, startTime), flips the
    Ready condition, and finishes graceful deletions (the store keeps a deleted pod
    terminating through upstream's delete hook until ``finish``)."""

    def __init__(self, store: ObjectStore, clock: FakeClock) -> None:
        self.store = store
        self.clock = clock
        self._next_ip = 1
        store.set_delete_hook(PODS, GracefulDeletion(clock.utc))

    def start(self, name: str, ready: bool = False) -> None:
        ip = f"127.100.0.{self._next_ip}"
        self._next_ip += 1

        def started(pod: RawObject) -> RawObject:
            status = pod.setdefault("status", {})
            status.update(phase="Running", podIP=ip, podIPs=[{"ip": ip}])
            status["startTime"] = rfc3339(self.clock.utc())
            status["conditions"] = [self._ready_condition(ready)]
            return pod

        self.store.modify(PODS, NS, name, started, subresource="status")

    def set_ready(self, name: str, ready: bool = True) -> None:
        def flipped(pod: RawObject) -> RawObject:
            pod["status"]["conditions"] = [self._ready_condition(ready)]
            return pod

        self.store.modify(PODS, NS, name, flipped, subresource="status")

    def finish(self, name: str) -> None:
        """The terminating pod's processes are gone: remove it."""
        self.store.delete(PODS, NS, name, DeleteOptions(grace_period_seconds=0))

    def _ready_condition(self, ready: bool) -> dict[str, Any]:
        return {
            "type": "Ready",
            "status": str(ready),
            "lastTransitionTime": rfc3339(self.clock.utc()),
        }


@dataclass
class Sandbox:
    store: ObjectStore
    clock: FakeClock
    metrics: StaticMetrics
    manager: ControllerManager
    kubelet: FakeKubelet

    def settle(self) -> None:
        assert self.manager.wait_until_idle(timeout_s=5.0), "controllers did not settle"

    def get(self, resource: ResourceType, name: str) -> RawObject:
        return self.store.get(resource, NS, name)

    def create(self, resource: ResourceType, body: RawObject) -> RawObject:
        created = self.store.create(resource, body, NS)
        self.settle()
        return created

    def modify(
        self, resource: ResourceType, name: str, change: Callable[[RawObject], None]
    ) -> None:
        def changed(obj: RawObject) -> RawObject:
            change(obj)
            return obj

        self.store.modify(resource, NS, name, changed)
        self.settle()

    def pods(self, app: str = "web") -> list[RawObject]:
        return [
            p for p in self.store.list(Selection(PODS, NS)).items if labels_of(p).get("app") == app
        ]

    def replica_sets(self) -> list[RawObject]:
        return self.store.list(Selection(REPLICASETS, NS)).items

    def events(self, reason: str | None = None) -> list[RawObject]:
        items = self.store.list(Selection(EVENTS, NS)).items
        return [e for e in items if reason in (None, e["reason"])]

    def messages(self, reason: str) -> list[str]:
        return [e["message"] for e in self.events(reason)]

    def step(self) -> bool:
        """One kubelet transition, then let the controllers settle: finish one
        terminating pod, else start one pending pod, else make one started pod Ready.
        False when there was nothing to do."""
        pods = sorted(self.all_pods(), key=lambda p: metadata(p)["creationTimestamp"])
        terminating = [p for p in pods if metadata(p).get("deletionTimestamp")]
        pending = [p for p in pods if not mapping_at(p, "status").get("podIP")]
        unready = [p for p in pods if p not in terminating and not is_ready(p)]
        self.clock.advance(1.0)
        if terminating:
            self.kubelet.finish(name_of(terminating[0]))
        elif pending:
            self.kubelet.start(name_of(pending[0]))
        elif unready:
            self.kubelet.set_ready(name_of(unready[0]))
        else:
            return False
        self.settle()
        return True

    def run_kubelet(self, max_steps: int = 200) -> int:
        """Step until nothing is left to do; the number of steps taken."""
        for steps in range(max_steps):
            if not self.step():
                return steps
        raise AssertionError(f"the cluster did not converge in {max_steps} kubelet steps")

    def all_pods(self) -> list[RawObject]:
        return self.store.list(Selection(PODS, NS)).items


def is_ready(pod: RawObject) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in mapping_at(pod, "status").get("conditions") or []
    )


@contextmanager
def running_sandbox(
    settings: SandboxSettings = QUIET_SETTINGS, metrics: StaticMetrics | None = None
) -> Iterator[Sandbox]:
    clock = FakeClock()
    store = ObjectStore(clock=clock.utc)
    kubelet = FakeKubelet(store, clock)
    metrics = metrics or StaticMetrics()
    manager = ControllerManager(store, settings, metrics, clock, coalesce_s=0.001)
    with manager:
        sandbox = Sandbox(store, clock, metrics, manager, kubelet)
        sandbox.settle()
        yield sandbox


def deployment(
    name: str = "web",
    replicas: int = 3,
    strategy: dict[str, Any] | None = None,
    cpu_request: str = "500m",
    **spec: Any,
) -> RawObject:
    """A Deployment whose one container declares a port named ``http`` and a CPU request."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy or {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container(cpu_request)]},
            },
            **spec,
        },
    }


def container(cpu_request: str = "500m", port: int = 8080) -> dict[str, Any]:
    return {
        "name": "app",
        "image": "ghcr.io/slagate/slagate-shop:0.1",
        "ports": [{"name": "http", "containerPort": port}],
        "resources": {"requests": {"cpu": cpu_request}},
    }


def restart(at: str) -> Callable[[RawObject], None]:
    """What ``kubectl rollout restart`` patches into the template."""

    def restarted(obj: RawObject) -> None:
        template_meta = obj["spec"]["template"].setdefault("metadata", {})
        annotations = template_meta.setdefault("annotations", {})
        annotations["kubectl.kubernetes.io/restartedAt"] = at

    return restarted


def scale_to(replicas: int) -> Callable[[RawObject], None]:
    def scaled(obj: RawObject) -> None:
        obj["spec"]["replicas"] = replicas

    return scaled
