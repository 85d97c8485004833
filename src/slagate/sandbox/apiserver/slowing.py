"""Fault injection: an API server that answers late for a while, as an overloaded one does.

``Slowdown.start(seconds)`` holds back, until ``seconds`` have passed, every answer the
API server has not sent yet: requests (but the sandbox's own controls) wait before they
are handled, and watch streams keep their events until then, in order. Nothing is cut:
connections stay open and every event is delivered, late. ``end()`` lets everything go
at once (the server stops, or the fault is lifted).

``POST /_sandbox/slow?seconds=S`` starts it over HTTP (``slagate sandbox slow``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_SLOW_S = 600.0
"""The longest slowdown one request may ask for: longer looks like a typo."""


class Slowdown:
    """Whether, and until when, the API server holds its answers back."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0
        self._changed = threading.Condition()

    def start(self, seconds: float) -> None:
        """Hold answers back for ``seconds`` from now (replacing any slowdown under way)."""
        with self._changed:
            self._until = self._clock() + seconds
            self._changed.notify_all()

    def end(self) -> None:
        """Let every held answer go now."""
        with self._changed:
            self._until = 0.0
            self._changed.notify_all()

    def remaining_s(self) -> float:
        return max(0.0, self._until - self._clock())

    def hold(self) -> None:
        """Return once no slowdown is under way (at once when there is none)."""
        with self._changed:
            while (left := self._until - self._clock()) > 0:
                self._changed.wait(left)
