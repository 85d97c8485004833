"""A keyed, delaying work queue: what stands between watch events and a controller's sync.

Like client-go's workqueue: a key is queued at most once however many events name it, so a
burst of pod updates becomes one ReplicaSet sync; ``add`` holds a key for a short
coalescing delay so the burst can finish first, ``add_after`` schedules a later sync
(periodic HPA syncs, progress deadlines, minReadySeconds). The earlier due time wins when
a key is added twice. Each queue has one worker, so a key is never synced concurrently.

Delays are real time (``monotonic``), not the controllers' injected wall clock: a fake
clock in tests must not stop the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slagate.sandbox.controllermanager.owners import Key


@dataclass(frozen=True)
class _Entry:
    due: float
    urgent: bool
    """Added by an event (``add``), not scheduled (``add_after``): idleness waits for it."""


class WorkQueue:
    """Keys waiting for a sync. Thread-safe; ``get`` blocks until a key is due.

    ``coalesce_s``: how long ``add`` holds a key (seconds). ``monotonic``: the clock the
    delays run on.
    """

    def __init__(self, coalesce_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._coalesce_s = coalesce_s
        self._monotonic = monotonic
        self._changed = threading.Condition()
        self._waiting: dict[Key, _Entry] = {}
        self._processing: set[Key] = set()
        self._closed = False

    def add(self, key: Key) -> None:
        """Sync ``key`` soon (after the coalescing delay): something about it changed."""
        self._put(key, self._coalesce_s, urgent=True)

    def add_after(self, key: Key, delay_s: float) -> None:
        """Sync ``key`` in ``delay_s`` seconds, unless it is due earlier already."""
        self._put(key, max(0.0, delay_s), urgent=False)

    def _put(self, key: Key, delay_s: float, urgent: bool) -> None:
        with self._changed:
            if self._closed:
                return
            due = self._monotonic() + delay_s
            current = self._waiting.get(key)
            if current is not None:
                due = min(due, current.due)
                urgent = urgent or current.urgent
            self._waiting[key] = _Entry(due, urgent)
            self._changed.notify_all()

    def get(self) -> Key | None:
        """The next due key, marked as processing until ``done``; None once closed."""
        with self._changed:
            while not self._closed:
                now = self._monotonic()
                candidates = [
                    (entry.due, key)
                    for key, entry in self._waiting.items()
                    if key not in self._processing
                ]
                due = [item for item in candidates if item[0] <= now]
                if due:
                    key = min(due)[1]
                    del self._waiting[key]
                    self._processing.add(key)
                    return key
                next_due = min((item[0] for item in candidates), default=None)
                self._changed.wait(None if next_due is None else next_due - now)
            return None

    def done(self, key: Key) -> None:
        with self._changed:
            self._processing.discard(key)
            self._changed.notify_all()

    def busy(self) -> bool:
        """A key is being synced, or waits because of an event (or is overdue)."""
        with self._changed:
            now = self._monotonic()
            return bool(self._processing) or any(
                entry.urgent or entry.due <= now for entry in self._waiting.values()
            )

    def close(self) -> None:
        """Drop every key and wake ``get`` for good."""
        with self._changed:
            self._closed = True
            self._waiting.clear()
            self._changed.notify_all()
