"""Pod CPU samples: the sampler's arithmetic over an injected reader, and the host reader's
precision on real processes (this one, a thread, an exited child). No sleeps: CPU is
burnt on purpose, and the child is waited for with ``waitid``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from slagate.sandbox.kubelet.sampling import (
    CpuSampler,
    FixedProcesses,
    HostProcesses,
    millicores,
    process_clock_ns,
    ticks_ns,
    tree_memory_bytes,
)
from slagate.sandbox.metrics import PodCpu
from slagate.shop.burning import burn_cpu
from tests.fakes import START_S, FakeClock

POD = ("default", "order-1")
PIDS = (101,)
MS = 1_000_000  # nanoseconds

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="process CPU clocks: Linux")


def sampler_reading(cpu_ns: dict[tuple[int, ...], int]) -> tuple[CpuSampler, FakeClock]:
    processes = FixedProcesses()
    processes.cpu_ns = cpu_ns
    clock = FakeClock()
    return CpuSampler(clock, processes), clock


def test_the_first_reading_of_a_pod_is_only_a_baseline() -> None:
    sampler, _ = sampler_reading({PIDS: 5_000 * MS})

    assert sampler.sample({POD: PIDS}) == {}


def test_usage_is_the_cpu_time_between_two_readings_over_the_wall_time() -> None:
    cpu_ns = {PIDS: 5_000 * MS}
    sampler, clock = sampler_reading(cpu_ns)
    sampler.sample({POD: PIDS})

    clock.advance(2.0)
    cpu_ns[PIDS] += 7 * MS  # an idle pod: probes and the event loop, 3.5 millicores

    assert sampler.sample({POD: PIDS}) == {POD: PodCpu(4, START_S + 2.0, 2.0)}


@pytest.mark.parametrize(
    ("used_ns", "window_s", "expected"),
    [
        pytest.param(0, 2.0, 0, id="nothing"),
        pytest.param(7 * MS, 2.0, 4, id="3.5m-rounds-up"),
        pytest.param(8 * MS, 2.0, 4, id="exact"),
        pytest.param(8 * MS + 2, 2.0, 5, id="one-nanocore-over"),
        pytest.param(1, 2.0, 0, id="below-one-nanocore"),
        pytest.param(100 * MS, 0.5, 200, id="short-window"),
    ],
)
def test_millicores_truncate_to_nanocores_then_round_up(
    used_ns: int, window_s: float, expected: int
) -> None:
    assert millicores(used_ns, window_s) == expected


def test_a_restarted_container_starts_a_new_baseline() -> None:
    cpu_ns = {PIDS: 5_000 * MS, (102,): 900 * MS}
    sampler, clock = sampler_reading(cpu_ns)
    sampler.sample({POD: PIDS})

    clock.advance(2.0)
    restarted = sampler.sample({POD: (102,)})
    clock.advance(2.0)
    cpu_ns[(102,)] += 20 * MS
    then = sampler.sample({POD: (102,)})

    assert restarted == {}
    assert then == {POD: PodCpu(10, START_S + 4.0, 2.0)}


def test_a_gone_pod_gives_no_sample_and_is_a_baseline_again() -> None:
    cpu_ns = {PIDS: 5_000 * MS}
    sampler, clock = sampler_reading(cpu_ns)
    sampler.sample({POD: PIDS})

    clock.advance(2.0)
    del cpu_ns[PIDS]
    gone = sampler.sample({POD: PIDS})
    clock.advance(2.0)
    cpu_ns[PIDS] = 5_010 * MS
    back = sampler.sample({POD: PIDS})

    assert (gone, back) == ({}, {})


def test_a_counter_that_went_back_gives_no_sample() -> None:
    cpu_ns = {PIDS: 5_000 * MS}
    sampler, clock = sampler_reading(cpu_ns)
    sampler.sample({POD: PIDS})

    clock.advance(2.0)
    cpu_ns[PIDS] -= 10 * MS

    assert sampler.sample({POD: PIDS}) == {}


# -- the host reader -----------------------------------------------------------------------


@linux_only
def test_the_process_clock_resolves_less_than_a_clock_tick() -> None:
    """3 ms of CPU: psutil's ticks (10 ms) would read 0 or 10 ms."""
    me = os.getpid()
    before_ns = time.process_time_ns()
    first_ns = process_clock_ns(me)
    burn_cpu(3.0)
    second_ns = process_clock_ns(me)
    after_ns = time.process_time_ns()

    assert 3 * MS <= second_ns - first_ns <= after_ns - before_ns


@linux_only
def test_the_process_clock_counts_threads_that_have_exited() -> None:
    me = os.getpid()
    first_ns = process_clock_ns(me)
    worker = threading.Thread(target=burn_cpu, args=(3.0,))
    worker.start()
    worker.join()

    assert process_clock_ns(me) - first_ns >= 3 * MS


@pytest.fixture
def exited_child() -> Iterator[int]:
    """The pid of a child that has exited and is not reaped yet: its counters are final."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    yield child.pid
    child.wait()


def test_a_tree_is_the_injected_process_time_plus_reaped_children(exited_child: int) -> None:
    reader = HostProcesses(process_ns={exited_child: 123_456_789}.__getitem__)
    times = psutil.Process(exited_child).cpu_times()

    reaped_ns = ticks_ns(times.children_user + times.children_system)
    assert reader.tree_cpu_ns((exited_child,)) == 123_456_789 + reaped_ns


def test_without_a_process_clock_the_reader_falls_back_to_ticks(exited_child: int) -> None:
    def no_clock(pid: int) -> int:
        raise OSError(95, "no CPU-time clock here")

    times = psutil.Process(exited_child).cpu_times()

    expected = ticks_ns(times.user + times.system)
    expected += ticks_ns(times.children_user + times.children_system)
    assert HostProcesses(process_ns=no_clock).tree_cpu_ns((exited_child,)) == expected


def test_a_gone_root_process_reads_as_none() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()

    assert HostProcesses().tree_cpu_ns((child.pid,)) is None


def test_a_pods_memory_is_the_resident_set_of_its_process_tree() -> None:
    """A process holding 64 MiB (written, so resident) reads its RSS, at least 64 MiB,
    while it waits; a gone process gives None."""
    hold = (
        "import sys; b = b'x' * (64 * 1024 * 1024); "
        "sys.stdout.write('x'); sys.stdout.flush(); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None and child.stdout.read(1) == b"x"
        own = psutil.Process(child.pid).memory_info().rss

        assert tree_memory_bytes((child.pid,)) == own
        assert own >= 64 * 1024 * 1024
    finally:
        child.communicate(b"")
    assert tree_memory_bytes((child.pid,)) is None
