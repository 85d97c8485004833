"""A few daemon threads that run blocking jobs (probe requests, exec probes) off the loop."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], None]


class WorkerPool:
    """``size`` daemon threads taking jobs from one queue.

    A bounded number of threads, whatever the number of probes: a job is one probe run,
    bounded by the probe's timeout, and each probe has at most one job queued or running
    (the next run is scheduled when the result is back). A job that raises is logged.
    """

    def __init__(self, size: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True)
            for index in range(size)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        self._jobs.put(job)

    def stop(self, timeout_s: float) -> None:
        """Let each thread finish its job, then end; wait up to ``timeout_s`` in all."""
        for _ in self._threads:
            self._jobs.put(None)
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:
                logger.exception("kubelet job %r failed", job)
