"""The shape every controller shares: informers feed a work queue, one worker syncs keys.

A ``Controller`` owns a ``WorkQueue`` of ``(namespace, name)`` keys of its primary
resource and a ``sync(key)`` that reads the object from the store, decides with the pure
functions of ``slagate.sandbox.decisions`` and writes the result back. ``Worker`` runs
the loop on a thread: take a due key, sync it, retry with back-off when the sync raised.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager.informing import Informer
from slagate.sandbox.controllermanager.owners import Key, key_of
from slagate.sandbox.controllermanager.queueing import WorkQueue
from slagate.sandbox.objects.resources import (
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    HORIZONTAL_POD_AUTOSCALERS,
    POD_DISRUPTION_BUDGETS,
    PODS,
    REPLICASETS,
    SERVICES,
    ResourceType,
)

logger = logging.getLogger(__name__)

RETRY_FIRST_S = 0.05
RETRY_MAX_S = 5.0


@dataclass(frozen=True)
class Informers:
    """The shared informers, one per watched type."""

    pods: Informer
    replica_sets: Informer
    deployments: Informer
    services: Informer
    hpas: Informer
    endpoint_slices: Informer
    disruption_budgets: Informer

    @classmethod
    def over(cls, store: ObjectStore, on_activity: Callable[[], None]) -> Informers:
        def make(resource: ResourceType) -> Informer:
            return Informer(store, resource, on_activity)

        return cls(
            make(PODS),
            make(REPLICASETS),
            make(DEPLOYMENTS),
            make(SERVICES),
            make(HORIZONTAL_POD_AUTOSCALERS),
            make(ENDPOINT_SLICES),
            make(POD_DISRUPTION_BUDGETS),
        )

    def all(self) -> tuple[Informer, ...]:
        return (
            self.pods,
            self.replica_sets,
            self.deployments,
            self.services,
            self.hpas,
            self.endpoint_slices,
            self.disruption_budgets,
        )


@dataclass(frozen=True)
class Wiring:
    """What every controller is built from. ``clock``: wall time in Unix seconds for
    decisions and timestamps. ``coalesce_s``: the work queues' coalescing delay."""

    store: ObjectStore
    informers: Informers
    clock: Callable[[], float]
    coalesce_s: float


class Controller:
    """Base of the four controllers: a queue of keys of ``primary`` and a ``sync``."""

    name = "controller"
    """Thread name and ``source.component`` of its Events."""

    def __init__(self, wiring: Wiring, primary: Informer) -> None:
        self.store = wiring.store
        self.clock = wiring.clock
        self.informers = wiring.informers
        self.queue = WorkQueue(wiring.coalesce_s)
        self._primary = primary

    def sync(self, key: Key) -> None:
        """Reconcile one object; raise to be retried with back-off."""
        raise NotImplementedError

    def resync(self) -> None:
        """Queue every known object of the primary type (an informer resync)."""
        for obj in self._primary.objects():
            self.queue.add(key_of(obj))


class Worker:
    """Runs one controller's queue on a thread; ``on_activity`` after every sync."""

    def __init__(self, controller: Controller, on_activity: Callable[[], None]) -> None:
        self._controller = controller
        self._on_activity = on_activity
        self._failures: dict[Key, int] = {}
        self.thread = threading.Thread(target=self._run, name=controller.name, daemon=True)

    def _run(self) -> None:
        queue = self._controller.queue
        while (key := queue.get()) is not None:
            try:
                self._controller.sync(key)
                self._failures.pop(key, None)
            except Exception:
                self._retry(key)
            finally:
                queue.done(key)
                self._on_activity()

    def _retry(self, key: Key) -> None:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        delay = min(RETRY_FIRST_S * 2 ** (failures - 1), RETRY_MAX_S)
        logger.exception(
            "%s: sync of %s/%s failed (attempt %d); retrying in %.2f s",
            self._controller.name,
            *key,
            failures,
            delay,
        )
        self._controller.queue.add_after(key, delay)
