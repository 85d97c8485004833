"""Moving recorded seconds to Parquet every few seconds without stalling the gevent hub.

A greenlet collects the completed seconds (fast, in memory) and hands the Parquet writing
to the hub's thread pool, so the users' greenlets keep running and measuring meanwhile.
One lock serialises flushes: the writer is only ever used by one flush at a time.

A failed flush keeps its rows for the next one, except when the disk is full: waiting
rarely helps then, so ``on_disk_full`` (the load child stops the load) is told why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TypeVar, cast

import gevent
import gevent.event
import gevent.lock

from slagate.files import disk_full
from slagate.load.recorder import Batch
from slagate.load.session import Session
from slagate.timeline import writing_run_folder

logger = logging.getLogger(__name__)
T = TypeVar("T")


def off_hub(work: Callable[[Batch], T], batch: Batch) -> T:
    """Run blocking ``work(batch)`` in the hub's thread pool (inline when on the hub).

    Its exception is raised here, in the caller; inside the pool gevent would also print
    it with a traceback on stderr (a full disk is one line, said by the caller)."""
    hub = gevent.get_hub()
    if gevent.getcurrent() is hub:
        return work(batch)

    def caught() -> tuple[T | None, Exception | None]:
        try:
            return work(batch), None
        except Exception as e:
            return None, e

    result, error = hub.threadpool.apply(caught)
    if error is not None:
        raise error
    return cast(T, result)


class Flusher:
    """Flushes ``session`` every ``interval_s`` seconds in a greenlet until ``close``."""

    def __init__(self, session: Session, interval_s: float) -> None:
        self.session = session
        self.interval_s = interval_s
        self._lock = gevent.lock.Semaphore()
        self._stopping = gevent.event.Event()
        self._greenlet: gevent.Greenlet | None = None
        self.on_disk_full: Callable[[str], None] | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._loop)

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                self.flush()
            except Exception as e:  # keep the load running; the final flush raises
                logger.error("slagate: writing the timeline failed (will retry): %s", e)
                if disk_full(e) and self.on_disk_full is not None:
                    full = os.strerror(e.errno or 0)
                    self.on_disk_full(
                        f"the run folder's disk is full ({full}): the load was stopped; "
                        "the parts written before stay readable"
                    )

    def flush(self, final: bool = False) -> int:
        """Move completed seconds (everything if ``final``) to disk; returns rows written."""
        with self._lock:
            batch = self.session.collect(final)
            if not any(batch.values()):
                return 0
            return off_hub(self.session.write, batch)

    def close(self) -> int:
        """Stop the periodic flushes and write everything that is left; a
        ``TimelineError`` naming the folder and what to do if it cannot be written."""
        self._stopping.set()
        if self._greenlet is not None:
            self._greenlet.join(timeout=self.interval_s + 30)
        with writing_run_folder(self.session.run_dir):
            return self.flush(final=True)
