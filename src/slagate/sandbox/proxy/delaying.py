"""The propagation delay: endpoint changes take effect ``delay_s`` after they happened.

Real clusters never reprogram their data path at the instant an EndpointSlice changes:
kube-proxy, sidecars and load balancers lag by milliseconds to seconds. That lag is why
a pod needs a preStop delay: it keeps receiving requests for a while after it began to
terminate. ``DelayLine`` is that lag as a pure FIFO with an injected clock value: what
was pushed at ``t`` comes out at ``t + delay_s`` (plus a random share of ``jitter_s``,
drawn from the injected ``random``), never before anything pushed earlier.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DelayLine(Generic[T]):
    """Items pushed at time ``t`` are due at ``t + delay_s + U(0, jitter_s)`` (seconds, any
    monotonic clock), or when the item pushed before them is, if that is later."""

    def __init__(
        self, delay_s: float, jitter_s: float = 0.0, rng: random.Random | None = None
    ) -> None:
        if delay_s < 0 or jitter_s < 0:
            raise ValueError(f"delays must not be negative, got {delay_s}, {jitter_s}")
        self.delay_s = delay_s
        self.jitter_s = jitter_s
        self._rng = rng or random.Random()
        self._queue: deque[tuple[float, T]] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, item: T, now: float) -> float:
        """Queue ``item``; return when it is due."""
        due = now + self.delay_s
        if self.jitter_s:
            due += self._rng.uniform(0.0, self.jitter_s)
        if self._queue and due < self._queue[-1][0]:
            due = self._queue[-1][0]  # neither jitter nor a clock step may reorder changes
        self._queue.append((due, item))
        return due

    def pop_due(self, now: float) -> list[T]:
        """Every item due at ``now``, oldest first."""
        due = []
        while self._queue and self._queue[0][0] <= now:
            due.append(self._queue.popleft()[1])
        return due

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None
