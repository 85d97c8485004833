"""Burning a fixed amount of CPU per request, to make load show up as CPU utilisation.

The lab this shop mirrors autoscales the order service on CPU; a real service spends CPU on
serialisation, templates and business rules. The burn is measured in thread CPU time, not
wall time: a replica preempted by its neighbours still burns the full amount, so CPU per
request stays constant and the autoscaler sees load, not contention.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_SPIN_ROUNDS = 200
"""Iterations between clock reads: few enough to stop within ~0.05 ms of the target."""


def burn_cpu(cpu_ms: float, clock: Callable[[], float] = time.thread_time) -> None:
    """Keep the calling thread busy until ``clock`` (seconds of CPU) advanced ``cpu_ms``."""
    if cpu_ms <= 0:
        return
    deadline = clock() + cpu_ms / 1000.0
    while clock() < deadline:
        _spin()


def _spin() -> int:
    total = 0
    for i in range(_SPIN_ROUNDS):
        total += i * i
    return total
