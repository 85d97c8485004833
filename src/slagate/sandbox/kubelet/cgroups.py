"""CPU limits on the containers' processes, where the OS lets the sandbox set them.

A container with ``resources.limits.cpu`` gets its own cgroup, as the kubelet's runtime
gives each container one, with a CFS quota of ``limit x period`` per period (100 ms):
- cgroup v2: ``cpu.max`` (``"10000 100000"`` for 100m) in a directory under the unified
  hierarchy, when its ``cgroup.controllers`` offers ``cpu``;
- cgroup v1: ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` under the ``cpu`` controller's
  hierarchy (``/sys/fs/cgroup/cpu``), when it is writable (root).
Otherwise nothing is enforced, and ``mechanism`` says so and why; the sandbox profile
carries that sentence into every run and report, so it is never silent.

A container's process is put into its cgroup with every descendant it has then, and its
later descendants are born there: a container runs under ``unshare`` (its own PID
namespace) or a shell, whose child is the app, and a process does not follow its parent
into a cgroup it joins after the fork.

Each sandbox's cgroups live under one directory named after its state directory
(``slagate-<hash>``), so that the next start of the same sandbox removes what a killed
daemon left behind (``clean``), and ``close`` removes them all. The directory stays out
of ``mechanism``, which the run records: two runs of the same conditions record the same
sentence. Loop thread only.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
from pathlib import Path

import psutil

from slagate.sandbox.kubelet.sampling import process_tree

logger = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
"""The CFS period upstream's runtimes use (``cpu.cfs_period_us``, 100 ms)."""
NOT_ENFORCED = "CPU limits not enforced"


class CpuLimits:
    """Puts container processes into cgroups with their CPU quota.

    ``root``: the sandbox's own directory in a hierarchy, ``v2``: which file format it
    speaks, ``mechanism``: one line saying what is enforced (or not, and why).
    """

    def __init__(self, root: Path | None, v2: bool, mechanism: str) -> None:
        self.root = root
        self.v2 = v2
        self.mechanism = mechanism
        self._placed: dict[tuple[str, str], set[int]] = {}  # (pod uid, container) -> pids

    @classmethod
    def detect(cls, state_dir: Path, base: Path = CGROUP_ROOT) -> CpuLimits:
        """The hierarchy this machine lets us write: v2 with the cpu controller, else v1's
        cpu controller, else none (``mechanism`` names what was tried)."""
        name = "slagate-" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
        tried = []
        for hierarchy, v2 in ((base, True), (base / "unified", True), (base / "cpu", False)):
            problem = _unusable(hierarchy, v2)
            if problem is None:
                root = hierarchy / name
                try:
                    root.mkdir(exist_ok=True)
                except OSError as error:
                    problem = f"cannot create {root}: {error.strerror}"
                else:
                    if v2:  # children get cpu.max only where the parent delegates cpu
                        _delegate_cpu(hierarchy)
                        _delegate_cpu(root)
                    what = "v2 cpu.max" if v2 else "v1 cpu.cfs_quota_us"
                    return cls(root, v2, f"CPU limits enforced by cgroup {what}")
            tried.append(f"{hierarchy}: {problem}")
        reason = "; ".join(tried)
        return cls(None, False, f"{NOT_ENFORCED} ({reason}); pods share the host's cores")

    @property
    def enforced(self) -> bool:
        return self.root is not None

    def clean(self) -> None:
        """Remove the cgroups a previous run of this sandbox left (its daemon killed)."""
        if self.root is not None:
            for child in sorted(self.root.glob("*/*"), reverse=True) + sorted(self.root.glob("*")):
                _remove(child)

    def limit(self, uid: str, container: str, pid: int, limit_m: int) -> None:
        """Put ``pid`` (the container's process) and its descendants into the container's
        cgroup with ``limit_m`` millicores; those placed already are left alone."""
        if self.root is None:
            return
        placed = self._placed.get((uid, container))
        pids = _tree(pid)
        if placed is not None and pids <= placed:
            return
        group = self.root / f"pod{uid}" / container
        try:
            if placed is None:
                group.mkdir(parents=True, exist_ok=True)
                quota = max(limit_m * PERIOD_US // 1000, 1000)  # the kernel's floor is 1 ms
                if self.v2:
                    _delegate_cpu(group.parent)
                    (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
                else:
                    (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                    (group / "cpu.cfs_quota_us").write_text(str(quota))
                placed = self._placed[(uid, container)] = set()
            for each in sorted(pids - placed):
                with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                    (group / "cgroup.procs").write_text(str(each))
                placed.add(each)
        except OSError as error:  # the process may have exited already
            logger.warning("CPU limit for %s/%s not set: %s", uid, container, error)

    def release(self, uid: str) -> None:
        """The pod is gone: remove its cgroups."""
        if self.root is None:
            return
        for key in [k for k in self._placed if k[0] == uid]:
            del self._placed[key]
        pod = self.root / f"pod{uid}"
        for child in sorted(pod.glob("*")):
            _remove(child)
        _remove(pod)

    def close(self) -> None:
        """Remove every cgroup of this sandbox, its own directory last."""
        if self.root is not None:
            self.clean()
            _remove(self.root)


def _tree(pid: int) -> set[int]:
    """``pid`` and its descendants now (just ``pid`` if it is gone)."""
    try:
        return {process.pid for process in process_tree(pid)}
    except psutil.Error:
        return {pid}


def _unusable(hierarchy: Path, v2: bool) -> str | None:
    """Why ``hierarchy`` cannot hold our CPU limits, or None if it can."""
    if v2:
        controllers = hierarchy / "cgroup.controllers"
        if not controllers.is_file():
            return "not a cgroup v2 hierarchy"
        if "cpu" not in controllers.read_text().split():
            return "cgroup v2 without the cpu controller"
        return None
    if not (hierarchy / "cpu.cfs_quota_us").is_file():
        return "no cgroup v1 cpu controller"
    return None


def _delegate_cpu(group: Path) -> None:
    with contextlib.suppress(OSError):
        (group / "cgroup.subtree_control").write_text("+cpu")


def _remove(group: Path) -> None:
    """rmdir a cgroup; processes still in it (orphans of a killed daemon) go to the parent
    first. Gone already is fine."""
    if not group.is_dir():
        return
    with contextlib.suppress(OSError):
        for pid in (group / "cgroup.procs").read_text().split():
            (group.parent / "cgroup.procs").write_text(pid)
    try:
        group.rmdir()
    except OSError as error:
        if error.errno != errno.ENOENT:
            logger.warning("cgroup %s not removed: %s", group, error.strerror)
