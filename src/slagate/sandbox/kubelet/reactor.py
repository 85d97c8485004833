"""The kubelet's event loop: one thread running callbacks, in order, one at a time.

Every decision about pods and containers runs in this thread, so the kubelet's runtime
state needs no lock: other threads (the pod watch, probe workers, preStop hooks) hand
their news over with ``call_soon``. Callbacks can also be due at a time (``call_at``:
probe periods, back-off, SIGKILL deadlines) or when a process exits (``on_exit``, by
waiting on a pidfd, Linux 5.3+, so an exit is seen at once and no thread waits per
process; elsewhere one thread per process waits). The daemon runs threads only, no
asyncio: this is the small part of an event loop the kubelet needs.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import selectors
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
ExitCallback = Callable[[int], None]


class Timer:
    """A callback due at ``when_s``; ``cancel`` keeps it from running."""

    __slots__ = ("callback", "cancelled", "when_s")

    def __init__(self, when_s: float, callback: Callable[[], None]) -> None:
        self.when_s = when_s
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Reactor:
    """Runs callbacks in the thread that calls ``run``.

    ``call_soon``, ``call`` and ``stop`` are thread-safe; ``call_at`` and ``on_exit``
    belong to the loop thread. ``clock`` gives the time ``call_at`` is measured in
    (seconds; it must advance like wall time). A callback that raises is logged and the
    loop goes on.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._posted: deque[Callable[[], None]] = deque()
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._stopped = False

    def call_soon(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._posted.append(callback)
        self._wake()

    def call(self, function: Callable[[], T]) -> Future[T]:
        """Run ``function`` in the loop; its result (or exception) arrives in the future."""
        future: Future[T] = Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function())
                except BaseException as error:
                    future.set_exception(error)

        self.call_soon(run)
        return future

    def call_at(self, when_s: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(when_s, callback)
        heapq.heappush(self._timers, (when_s, next(self._order), timer))
        return timer

    def on_exit(self, process: subprocess.Popen[bytes], callback: ExitCallback) -> None:
        """Call ``callback(returncode)`` once ``process`` has exited (and reap it).

        Without pidfds (not Linux, or a kernel before 5.3) a thread waits instead."""
        try:
            pidfd = os.pidfd_open(process.pid)
        except (AttributeError, OSError):  # no pidfd, or the process is reaped already
            self._wait_in_thread(process, callback)
            return
        self._selector.register(pidfd, selectors.EVENT_READ, (process, callback))

    def stop(self) -> None:
        """Make ``run`` return after the callback it is running."""
        with self._lock:
            self._stopped = True
        self._wake()

    def run(self) -> None:
        while not self._is_stopped():
            for key, _ in self._selector.select(self._timeout_s()):
                if key.fd == self._wake_read:
                    self._drain_wakeups()
                else:
                    self._reap(key)
            self._move_due_timers()
            self._run_posted()

    def close(self) -> None:
        """Release the pipe and any pidfd still watched (after ``run`` returned)."""
        for key in list(self._selector.get_map().values()):
            if key.fd != self._wake_read:
                os.close(key.fd)
        self._selector.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _is_stopped(self) -> bool:
        with self._lock:
            return self._stopped

    def _timeout_s(self) -> float | None:
        with self._lock:
            if self._posted:
                return 0.0
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - self._clock())

    def _move_due_timers(self) -> None:
        now = self._clock()
        due = []
        while self._timers and self._timers[0][0] <= now:
            timer = heapq.heappop(self._timers)[2]
            if not timer.cancelled:
                due.append(timer.callback)
        with self._lock:
            self._posted.extend(due)

    def _run_posted(self) -> None:
        with self._lock:
            batch, self._posted = self._posted, deque()
        for callback in batch:
            try:
                callback()
            except Exception:
                logger.exception("kubelet callback %r failed", callback)

    def _reap(self, key: selectors.SelectorKey) -> None:
        self._selector.unregister(key.fd)
        os.close(key.fd)
        process, callback = key.data
        code = process.wait()
        self.call_soon(lambda: callback(code))

    def _wait_in_thread(self, process: subprocess.Popen[bytes], callback: ExitCallback) -> None:
        def wait() -> None:
            code = process.wait()
            self.call_soon(lambda: callback(code))

        name = f"kubelet-wait-{process.pid}"
        threading.Thread(target=wait, name=name, daemon=True).start()

    def _wake(self) -> None:
        # a full pipe holds wake-ups enough; a closed one means the loop is gone
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"\0")

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_read, 4096):
                pass
