"""Pod CPU from the host's process table: what cAdvisor and metrics-server give the HPA.

A pod's CPU time is the user + system time of its container processes and all their
descendants, plus what their reaped children used (``children_user``/``children_system``),
so a worker process that came and went still counts. Usage is the CPU time spent between
two samples over the wall time between them, in millicores. The first sample of a
process tree (a new pod, a restarted container) is only a baseline, as metrics-server
needs two points before it reports a pod.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import psutil

from slagate.sandbox.metrics import PodCpu

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class _Reading:
    pids: tuple[int, ...]
    cpu_s: float
    at_s: float


class CpuSampler:
    """Turns successive readings of process trees into ``PodCpu`` samples."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._previous: dict[Hashable, _Reading] = {}

    def sample(self, roots: Mapping[K, tuple[int, ...]]) -> dict[K, PodCpu]:
        """One round: ``roots`` maps each pod to its container process ids; the result has
        a sample for every pod read twice in a row with the same processes."""
        readings: dict[Hashable, _Reading] = {}
        samples: dict[K, PodCpu] = {}
        for key, pids in roots.items():
            cpu_s = tree_cpu_s(pids)
            if cpu_s is None:
                continue
            reading = _Reading(pids, cpu_s, self._clock())
            readings[key] = reading
            previous = self._previous.get(key)
            if previous is not None and previous.pids == pids:
                window_s = reading.at_s - previous.at_s
                used_s = reading.cpu_s - previous.cpu_s
                if window_s > 0 and used_s >= 0:
                    samples[key] = PodCpu(round(1000 * used_s / window_s), reading.at_s, window_s)
        self._previous = readings
        return samples


def tree_cpu_s(pids: Iterable[int]) -> float | None:
    """CPU seconds used by these processes and their descendants; None if one is gone."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        for process in tree:
            try:
                times = process.cpu_times()
            except psutil.Error:  # a descendant exited meanwhile
                continue
            total += times.user + times.system + times.children_user + times.children_system
    return total
