"""Containers as PID 1 of a PID namespace of their own, as a container runtime runs them.

A runtime stops a container by sending SIGTERM to the container's PID 1 only, and SIGKILL
to everything in it when the grace period is over. The kernel gives the first process of
a PID namespace no default signal actions: a signal it has no handler for is dropped.
So a ``sh -c "python app.py"`` entrypoint (a shell that neither ``exec``s its last
command nor traps SIGTERM) never passes the signal on; the app never learns, keeps its
requests and is SIGKILLed at the end of the grace period (exit code 137) instead of
draining. Debian's dash (0.5.12, ``/bin/sh``) forks for ``sh -c "python app.py"``:
the app is a child of the shell, not the shell replaced, so this is the common case.

The sandbox reproduces it with the kernel's own rule, not an imitation: each container
runs under util-linux's ``unshare --pid --fork --kill-child``, which makes a new PID
namespace, forks the container's program into it as PID 1 and waits for it. The
kubelet sends SIGTERM to that PID 1 (``signal_init``) and SIGKILL to the whole process
group (the wrapper included, so the container's exit code is 137 as a runtime reports
it). Cleanup: the wrapper dies with the kubelet (``PR_SET_PDEATHSIG``), PID 1 dies with
the wrapper (``--kill-child``), and everything in a namespace dies with its PID 1.

Making a PID namespace needs ``CAP_SYS_ADMIN`` (root) and the ``unshare`` program.
Without them (``probe_isolation`` finds out once, at kubelet start) containers run as
plain process groups and SIGTERM goes to the whole group, so a shell entrypoint drains
cleanly in the sandbox where it would not on a cluster; ``PidIsolation.describe`` says
so in every run's sandbox profile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

UNSHARE_FLAGS = ("--pid", "--fork", "--kill-child", "--")
PROBE_TIMEOUT_S = 10.0
"""How long the one trial namespace at kubelet start may take (it runs ``true``)."""


@dataclass(frozen=True)
class PidIsolation:
    """Whether containers get a PID namespace: ``unshare`` is the program's path when
    they do, None when not, ``reason`` then says why."""

    unshare: str | None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.unshare is not None

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """The host command line that runs ``argv`` as PID 1 of a new namespace."""
        if self.unshare is None:
            return list(argv)
        return [self.unshare, *UNSHARE_FLAGS, *argv]

    def describe(self) -> str:
        """One line for the sandbox profile: how containers receive their signals."""
        if self.unshare is not None:
            return "PID 1 in a PID namespace (SIGTERM to PID 1 only, as a runtime sends it)"
        return (
            f"process groups, no PID namespace ({self.reason}): SIGTERM reaches every "
            "process of a container, so a shell entrypoint that does not forward it "
            "drains here but is SIGKILLed at the end of its grace period on a cluster"
        )


NO_ISOLATION = PidIsolation(None, "not probed")


def probe_isolation(
    which: Callable[[str], str | None] = shutil.which, euid: Callable[[], int] = os.geteuid
) -> PidIsolation:
    """Find out once whether this host can give containers PID namespaces: try one."""
    path = which("unshare")
    if path is None:
        return PidIsolation(None, "util-linux's unshare program is not installed")
    if euid() != 0:
        return PidIsolation(None, "not root: a PID namespace needs CAP_SYS_ADMIN")
    try:
        trial = subprocess.run(
            [path, *UNSHARE_FLAGS, "true"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return PidIsolation(None, f"unshare --pid failed: {error}")
    if trial.returncode != 0:
        detail = trial.stderr.strip()[-200:] or f"exit code {trial.returncode}"
        return PidIsolation(None, f"unshare --pid failed: {detail}")
    return PidIsolation(path)


def resolvable(program: str, path: str | None) -> bool:
    """Whether ``program`` can be executed (found on ``path``, the container's PATH):
    checked before wrapping, so a missing program is still a StartError."""
    return shutil.which(program, path=path) is not None


def namespace_init(wrapper_pid: int, proc: Path = Path("/proc")) -> int | None:
    """The host pid of PID 1 in the namespace ``unshare`` (``wrapper_pid``) made: its
    only child. None before it forked, or once it is gone."""
    children = proc / str(wrapper_pid) / "task" / str(wrapper_pid) / "children"
    try:
        pids = children.read_text().split()
    except OSError:
        return None
    return int(pids[0]) if pids else None


def signal_init(wrapper_pid: int, sig: int) -> bool:
    """Send ``sig`` to PID 1 of the container (the kernel drops it if PID 1 has no
    handler for it). False when there is no PID 1 (yet, or any more)."""
    init = namespace_init(wrapper_pid)
    if init is None:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(init, sig)
    return True
