"""The controller manager: the sandbox's kube-controller-manager, as threads in-process.

``ControllerManager`` wires four controllers to the store the way upstream's are wired to
the API server: one informer thread per watched type (pods, ReplicaSets, Deployments,
Services, HPAs, EndpointSlices) lists and watches the store and turns changes into keys on
the controllers' work queues; one worker thread per controller syncs those keys::

    informer threads ──keys──> Deployment | ReplicaSet | HPA | EndpointSlice workers
          ▲                                      │
          └────────── store.watch ◄── writes ────┘

Periodic work is only where upstream has it: every HPA every ``hpa_sync_period_s``, a
rolling Deployment when its progress deadline would pass, a ReplicaSet when a pod's
minReadySeconds end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager.autoscaling import HPAController
from slagate.sandbox.controllermanager.deploying import DeploymentController
from slagate.sandbox.controllermanager.disrupting import DisruptionController
from slagate.sandbox.controllermanager.reconciling import Controller, Informers, Wiring, Worker
from slagate.sandbox.controllermanager.replicating import ReplicaSetController
from slagate.sandbox.controllermanager.slicing import EndpointSliceController
from slagate.sandbox.metrics import PodMetricsSource
from slagate.sandbox.settings import SandboxSettings

logger = logging.getLogger(__name__)

COALESCE_S = 0.01
"""How long a key waits after an event so that a burst of events makes one sync."""
_IDLE_RECHECK_S = 0.05


class ControllerManager:
    """Runs the Deployment, ReplicaSet, HPA and EndpointSlice controllers over ``store``.

    ``metrics``: pod CPU for the HPA. ``clock``: wall time in Unix seconds for decisions
    and the timestamps controllers write (conditions, Events, lastScaleTime); queue delays
    run on real monotonic time whatever the clock says. ``coalesce_s``: see COALESCE_S.
    Use as a context manager, or ``start()`` then ``stop()``.
    """

    def __init__(
        self,
        store: ObjectStore,
        settings: SandboxSettings,
        metrics: PodMetricsSource,
        clock: Callable[[], float] = time.time,
        *,
        coalesce_s: float = COALESCE_S,
    ) -> None:
        self._store = store
        self._activity = threading.Condition()
        self._activity_count = 0
        self._informers = Informers.over(store, self._note_activity)
        wiring = Wiring(store, self._informers, clock, coalesce_s)
        self.controllers: tuple[Controller, ...] = (
            DeploymentController(wiring),
            ReplicaSetController(wiring),
            HPAController(wiring, settings, metrics),
            EndpointSliceController(wiring),
            DisruptionController(wiring),
        )
        workers = [Worker(c, self._note_activity) for c in self.controllers]
        self._threads = [w.thread for w in workers] + [
            threading.Thread(target=i.run, name=f"informer-{i.resource.plural}", daemon=True)
            for i in self._informers.all()
        ]
        self._started = False

    def start(self) -> None:
        """Start every worker, then every informer (whose first list queues everything)."""
        if self._started:
            raise RuntimeError("the controller manager was started already")
        self._started = True
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop informers and queues and join the threads, within ``timeout_s`` in all.

        A sync in progress finishes first; threads still alive after the timeout are
        logged (they are daemon threads and die with the process).
        """
        for informer in self._informers.all():
            informer.stop()
        for controller in self.controllers:
            controller.queue.close()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            if thread.is_alive() or thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning("controller threads still running after %.1f s: %s", timeout_s, alive)

    def resync(self) -> None:
        """Queue every object of every controller now, HPAs included (what an informer
        resync does; tests use it after moving a fake clock)."""
        for controller in self.controllers:
            controller.resync()

    def wait_until_idle(self, timeout_s: float = 5.0) -> bool:
        """Block until every stored change was handled and no sync is pending or running
        (scheduled periodic syncs do not count); False on timeout.

        Idle means a whole check passed with no activity in between: informers caught up
        with the store, queues without event-driven keys, no worker syncing.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            with self._activity:
                before = self._activity_count
            quiet = self._quiet()
            with self._activity:
                if quiet and before == self._activity_count:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._activity.wait(min(remaining, _IDLE_RECHECK_S))

    def _quiet(self) -> bool:
        if any(c.queue.busy() for c in self.controllers):
            return False
        if not all(i.caught_up() for i in self._informers.all()):
            return False
        return not any(c.queue.busy() for c in self.controllers)

    def _note_activity(self) -> None:
        with self._activity:
            self._activity_count += 1
            self._activity.notify_all()

    def __enter__(self) -> ControllerManager:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
