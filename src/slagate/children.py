"""Child processes that never outlive their parent, the environment they start with, and
how a long-running one is stopped.

Used by the shop launcher (service replicas), the sandbox kubelet (containers), the
sandbox's proxy supervisor and its Prometheus, and the load child: a sibling-free bottom
layer, so none of them imports another.

On Linux each child asks the kernel for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)`` in ``preexec_fn``): that needs no cooperation from the child
and no cleanup code that a SIGKILL of the parent would skip. The signal fires when the
*thread* that spawned the child ends, so spawn from a long-lived thread.

A file that must not outlive its process (a kubeconfig holding a token) is given to a
``FileGuard``: a tiny child that removes it when this process ends, however it ends.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import slagate

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` making the child get ``sig`` when its parent thread dies (Linux).

    SIGKILL unless the child has something to save (the load child gets SIGTERM: it stops
    the load and flushes what it recorded). libc is resolved here, in the parent, so the
    child between fork and exec only makes one system call. If the parent died before
    that call, the child exits at once.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def request_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, sig)
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


def stop_child(popen: subprocess.Popen[bytes] | None, timeout_s: float, what: str) -> None:
    """SIGTERM ``popen`` and wait; SIGKILL it (logged, naming ``what``) after ``timeout_s``.
    Nothing to do for None or an exited child."""
    if popen is None or popen.poll() is not None:
        return
    popen.send_signal(signal.SIGTERM)
    try:
        popen.wait(timeout_s)
    except subprocess.TimeoutExpired:
        logger.warning("%s (pid %d) ignored SIGTERM; killing it", what, popen.pid)
        popen.kill()
        popen.wait()


def log_tail(path: Path, chars: int = 2000) -> str:
    """The last ``chars`` of a child's log file, for an error message."""
    try:
        return path.read_bytes()[-chars:].decode(errors="replace")
    except OSError as error:
        return f"(no log: {error})"


_GUARD_SCRIPT = """
import os, sys
sys.stdin.buffer.read()
for path in sys.argv[1:]:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
"""
"""Reads its stdin to the end, then removes the paths in its arguments."""


class FileGuard:
    """Removes ``paths`` when this process ends: cleanly, by an exception or by SIGKILL.

    A child (``python -S -c``, a few MB) reads a pipe whose only writer is this process;
    the kernel closes the writer when this process dies, however it dies, and the child
    then removes the paths and exits. No signal is involved, so there is no window in
    which a death goes unnoticed, and no thread must outlive anything (unlike
    ``die_with_parent``). The child has a session of its own, so a Ctrl-C in the terminal
    does not end it before its parent. ``close()`` removes the paths now and waits.
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        read_end, self._write_end = os.pipe()  # not inherited by other children (PEP 446)
        try:
            self._popen = subprocess.Popen(
                [sys.executable, "-S", "-c", _GUARD_SCRIPT, *map(str, paths)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(read_end)

    @property
    def pid(self) -> int:
        return self._popen.pid

    def close(self, timeout_s: float = 5.0) -> None:
        """Remove the paths now (the child does) and wait for the child. Idempotent."""
        if self._write_end >= 0:
            os.close(self._write_end)
            self._write_end = -1
        try:
            self._popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("the file guard (pid %d) did not exit; killing it", self._popen.pid)
            self._popen.kill()
            self._popen.wait()
