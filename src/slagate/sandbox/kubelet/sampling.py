"""Pod CPU from the host's process table: what cAdvisor and metrics-server give the HPA.

Upstream, the kubelet reads each container's cumulative CPU time from its cgroup (in
nanoseconds) and metrics-server, scraping it every ``--metric-resolution``, reports the
rate between its last two scrapes, with their distance as the window. The sandbox does
the same per pod: a pod's CPU time is that of its container processes and all their
descendants, plus what their reaped children used; usage is the CPU time spent between two
samples over the wall time between them. The first sample of a process tree (a new pod,
a restarted container) is only a baseline, as metrics-server needs two points before it
reports a pod. Usage is truncated to nanocores as metrics-server does, and rounded *up* to
millicores as the HPA's ``Quantity.MilliValue`` does (upstream per container, here per
pod: at most one millicore less for each container beyond the first).

Precision is what makes the HPA's lines usable. ``/proc/<pid>/stat`` (psutil's
``cpu_times``) counts in clock ticks of 10 ms: over the sandbox's 2 s window one tick is
5 millicores, 5 % of a 100m request, so an idle pod using 3.4 millicores would read 0, 5
or 10 %. ``HostProcesses`` therefore reads each process's own CPU time from the kernel's
CPU-time clock of that process: nanoseconds, all its threads including the ones that
exited, the sum a cgroup's usage counter also adds up. Where that clock cannot be read
(not Linux) it falls back to psutil's ticks. Reaped children's time exists only in ticks
(``cutime``/``cstime``); it changes only when a child is reaped.
"""

from __future__ import annotations

import errno
import sys
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import psutil

from slagate.sandbox.metrics import PodCpu

K = TypeVar("K", bound=Hashable)

NS_PER_S = 1_000_000_000
NANOCORES_PER_MILLICORE = 1_000_000
_CPUCLOCK_SCHED = 2
"""The kernel's per-process CPU clock that counts scheduler run time (nanoseconds)."""


class ProcessCpuReader(Protocol):
    """Where cumulative CPU time comes from: the host (``HostProcesses``) or a test's
    ``FixedProcesses``."""

    def tree_cpu_ns(self, pids: tuple[int, ...]) -> int | None:
        """CPU nanoseconds used so far by these processes, all their descendants and
        their reaped children; None when one of ``pids`` is gone."""
        ...


@dataclass(frozen=True)
class CpuReading:
    """A process tree's cumulative CPU time ``cpu_ns`` (nanoseconds) read at ``at_s``
    (wall seconds); ``pids`` are the tree's roots (a pod's container processes)."""

    pids: tuple[int, ...]
    cpu_ns: int
    at_s: float


class CpuSampler:
    """Turns successive readings of process trees into ``PodCpu`` samples.

    ``clock``: wall time in seconds (sample timestamps and windows); ``reader``: where
    the cumulative CPU time of a process tree comes from.
    """

    def __init__(self, clock: Callable[[], float], reader: ProcessCpuReader) -> None:
        self._clock = clock
        self._reader = reader
        self._previous: dict[Hashable, CpuReading] = {}

    def sample(self, roots: Mapping[K, tuple[int, ...]]) -> dict[K, PodCpu]:
        """One round: ``roots`` maps each pod to its container process ids; the result has
        a sample for every pod read twice in a row with the same processes."""
        readings: dict[Hashable, CpuReading] = {}
        samples: dict[K, PodCpu] = {}
        for key, pids in roots.items():
            cpu_ns = self._reader.tree_cpu_ns(pids)
            if cpu_ns is None:
                continue
            reading = readings[key] = CpuReading(pids, cpu_ns, self._clock())
            sample = usage_between(self._previous.get(key), reading)
            if sample is not None:
                samples[key] = sample
        self._previous = readings
        return samples


def usage_between(previous: CpuReading | None, reading: CpuReading) -> PodCpu | None:
    """The usage from ``previous`` to ``reading`` of the same processes; None for a
    baseline (no previous reading, or other processes: a restarted container) and for a
    window that is empty or a counter that went back."""
    if previous is None or previous.pids != reading.pids:
        return None
    window_s = reading.at_s - previous.at_s
    used_ns = reading.cpu_ns - previous.cpu_ns
    if window_s <= 0 or used_ns < 0:
        return None
    return PodCpu(millicores(used_ns, window_s), reading.at_s, window_s)


def millicores(used_ns: int, window_s: float) -> int:
    """CPU nanoseconds over a window, as metrics-server (whole nanocores) and then the
    HPA (``MilliValue``, rounding up) turn them into millicores."""
    nanocores = int(used_ns / window_s)
    return -(-nanocores // NANOCORES_PER_MILLICORE)


def process_clock_ns(pid: int) -> int:
    """CPU nanoseconds process ``pid`` used so far, every thread included (exited ones
    too), from its CPU-time clock: the clock id glibc's ``clock_getcpuclockid`` makes for
    a pid, read with ``clock_gettime``. Raises ``OSError`` when the process is gone or
    the platform has no such clock (anything but Linux)."""
    if sys.platform != "linux":
        raise OSError(errno.ENOTSUP, "CPU-time clocks of other processes: Linux only")
    return time.clock_gettime_ns((~pid << 3) | _CPUCLOCK_SCHED)


def ticks_ns(seconds: float) -> int:
    """psutil's CPU seconds (whole clock ticks, as floats) in nanoseconds."""
    return round(seconds * NS_PER_S)


class HostProcesses:
    """``ProcessCpuReader`` over this host's processes: psutil walks the trees,
    ``process_ns`` gives each process's own CPU time (psutil's ticks where it raises
    ``OSError``)."""

    def __init__(self, process_ns: Callable[[int], int] = process_clock_ns) -> None:
        self._process_ns = process_ns

    def tree_cpu_ns(self, pids: tuple[int, ...]) -> int | None:
        return sum_over_trees(pids, self._one_ns)

    def _one_ns(self, process: psutil.Process) -> int:
        """A process's own CPU plus its reaped children's; 0 if it exited meanwhile."""
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0
        reaped_ns = ticks_ns(times.children_user + times.children_system)
        try:
            own_ns = self._process_ns(process.pid)
        except OSError:
            own_ns = ticks_ns(times.user + times.system)
        return own_ns + reaped_ns


class FixedProcesses:
    """An in-memory ``ProcessCpuReader`` for tests: set each tree's CPU time by hand,
    keyed by its root process ids; an unknown tree is a gone process."""

    def __init__(self) -> None:
        self.cpu_ns: dict[tuple[int, ...], int] = {}

    def tree_cpu_ns(self, pids: tuple[int, ...]) -> int | None:
        return self.cpu_ns.get(pids)


def process_tree(pid: int) -> list[psutil.Process]:
    """``pid``'s process and every descendant it has now; ``psutil.Error`` if it is gone."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def sum_over_trees(pids: tuple[int, ...], of: Callable[[psutil.Process], int]) -> int | None:
    """``of`` each of these processes and all their descendants, summed (``of`` gives 0
    for a process that exits meanwhile); None when one of ``pids`` is gone."""
    total = 0
    for pid in pids:
        try:
            tree = process_tree(pid)
        except psutil.Error:
            return None
        total += sum(of(process) for process in tree)
    return total


def tree_memory_bytes(pids: tuple[int, ...]) -> int | None:
    """The resident set size (bytes) of these processes and all their descendants, as the
    pod's memory usage; None when one of ``pids`` is gone.

    A cgroup's working set (what metrics-server reports) counts each page once; summing
    RSS counts pages shared between the tree's processes once per process, so a pod of
    several processes reads somewhat high. A pod process here is one interpreter, for which
    both agree up to the shared libraries.
    """
    return sum_over_trees(pids, _rss_bytes)


def _rss_bytes(process: psutil.Process) -> int:
    """A process's resident set; 0 if it exited meanwhile."""
    try:
        return int(process.memory_info().rss)
    except psutil.Error:
        return 0
