"""Child processes that never outlive their parent, and the environment they start with.

Used by the shop launcher (service replicas), the sandbox kubelet (containers) and the
sandbox's proxy supervisor: a sibling-free bottom layer, so none of them imports another.

On Linux each child asks the kernel for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)`` in ``preexec_fn``): that needs no cooperation from the child
and no cleanup code that a SIGKILL of the parent would skip. The signal fires when the
*thread* that spawned the child ends, so spawn from a long-lived thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import slagate

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` making the child get SIGKILL when its parent thread dies (Linux).

    libc is resolved here, in the parent, so the child between fork and exec only makes
    one system call. If the parent died before that call, the child exits at once.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def request_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return request_death_signal


def child_environment() -> dict[str, str]:
    """This process's environment, importing this very slagate, with unbuffered Python
    output (logs arrive as written)."""
    env = dict(os.environ)
    source_root = str(Path(slagate.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env
