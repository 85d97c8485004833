"""CPU limits in real cgroups (where this machine lets root write them), the fallback
that says why nothing is enforced, and the clean-up after a killed daemon."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slagate.sandbox.kubelet.cgroups import CpuLimits


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def limits(tmp_path: Path) -> Iterator[CpuLimits]:
    found = CpuLimits.detect(tmp_path)
    if not found.enforced:
        pytest.skip(found.mechanism)
    yield found
    found.close()


def throttled(group: Path) -> int:
    stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
    return int(stat["nr_throttled"])


def test_a_limited_process_is_throttled_to_its_quota(
    limits: CpuLimits, busy: subprocess.Popen[bytes]
) -> None:
    limits.limit("uid-1", "app", busy.pid, 100)

    assert limits.root is not None
    group = limits.root / "poduid-1" / "app"
    assert str(busy.pid) in (group / "cgroup.procs").read_text().split()
    quota = "cpu.max" if limits.v2 else "cpu.cfs_quota_us"
    assert (group / quota).read_text().split()[0] == "10000"  # 100m of a 100 ms period
    deadline = time.monotonic() + 10  # a busy loop overruns 10 ms in its first period it runs
    while throttled(group) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert throttled(group) > 0


def test_the_app_a_wrapper_forked_before_the_limit_is_limited_too(
    tmp_path: Path, limits: CpuLimits
) -> None:
    """A container runs under ``unshare`` or a shell, whose child is the app, forked before
    the kubelet sees the container: the child must not stay outside the cgroup."""
    wrapper = subprocess.Popen(["sh", "-c", f"{sys.executable} -c 'while 1: pass'; exit 0"])
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/proc/{wrapper.pid}/task/{wrapper.pid}/children").read_text().split():
            assert time.monotonic() < deadline, "the shell forked no child"
            time.sleep(0.05)
        (child,) = Path(f"/proc/{wrapper.pid}/task/{wrapper.pid}/children").read_text().split()

        limits.limit("uid-3", "app", wrapper.pid, 100)

        assert limits.root is not None
        group = limits.root / "poduid-3" / "app"
        assert {str(wrapper.pid), child} <= set((group / "cgroup.procs").read_text().split())
        # the record names the mechanism, never this sandbox's directory: runs compare
        assert str(tmp_path) not in limits.mechanism and "slagate-" not in limits.mechanism
    finally:
        subprocess.run(["pkill", "-P", str(wrapper.pid)], check=False)
        wrapper.wait()


def test_the_next_start_removes_what_a_killed_daemon_left(
    tmp_path: Path, limits: CpuLimits, busy: subprocess.Popen[bytes]
) -> None:
    limits.limit("uid-1", "app", busy.pid, 100)  # then the daemon "dies": no release
    assert limits.root is not None

    again = CpuLimits.detect(tmp_path)
    again.clean()

    assert again.root == limits.root
    assert not (limits.root / "poduid-1").exists()
    assert "poduid-1" not in Path(f"/proc/{busy.pid}/cgroup").read_text()  # moved out, alive
    assert busy.poll() is None
    again.close()
    assert not limits.root.exists()


def test_release_removes_the_pods_cgroups(limits: CpuLimits) -> None:
    limits.limit("uid-2", "app", 2**22 + 12345, 100)  # no such process: nothing placed
    assert limits.root is not None
    limits.release("uid-2")

    assert not (limits.root / "poduid-2").exists()


def test_without_a_writable_cpu_controller_nothing_is_enforced_and_it_says_why(
    tmp_path: Path,
) -> None:
    (tmp_path / "unified").mkdir()
    (tmp_path / "unified" / "cgroup.controllers").write_text("memory pids\n")

    found = CpuLimits.detect(tmp_path / "state", base=tmp_path)
    found.limit("uid", "app", 1, 100)

    assert not found.enforced
    assert found.mechanism == (
        f"CPU limits not enforced ({tmp_path}: not a cgroup v2 hierarchy; "
        f"{tmp_path / 'unified'}: cgroup v2 without the cpu controller; "
        f"{tmp_path / 'cpu'}: no cgroup v1 cpu controller); pods share the host's cores"
    )
