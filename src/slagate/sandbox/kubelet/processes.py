"""Container processes on the host: start, signal, reap; exec commands "inside" them.

A container is one host process in a session (so a process group) of its own: the
kubelet signals the whole group, as a container runtime signals the container, and a
terminal's Ctrl+C reaches only the daemon. Children must not outlive a daemon that is
SIGKILLed (an orphan would hold its pod IP and port): on Linux each asks the kernel for
SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``). That signal fires when the
*thread* that spawned the child ends, so containers are spawned by the kubelet's loop
thread, which lives as long as the kubelet (``slagate.children.die_with_parent``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from slagate.children import die_with_parent

OUTPUT_LIMIT_CHARS = 1024
"""How much of an exec command's output a probe message or Event keeps."""


def spawn(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    """Start a container process, stdout and stderr appended to ``log_path``.
    ``OSError`` if the program cannot be executed."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )


def signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the process group of ``process`` (what is left of it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def exit_code(returncode: int) -> int:
    """A Popen return code as a container runtime reports it: killed by signal N is 128+N."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass(frozen=True)
class ExecResult:
    """``exit_code`` None: the command timed out and was killed. ``output``: its tail."""

    exit_code: int | None
    output: str


class ExecRunner:
    """Runs exec probes and exec hooks "in" a container: a host process with the
    container's environment, killed (its whole group) at the timeout. Remembers the live
    ones so that ``kill_all`` can end them when the kubelet stops. Thread-safe."""

    def __init__(self) -> None:
        self._live: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def run(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout_s: float
    ) -> ExecResult:
        """Run ``argv``; ``OSError`` if it cannot be executed."""
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        with self._lock:
            self._live.add(process)
        try:
            output, _ = process.communicate(timeout=timeout_s)
            code: int | None = exit_code(process.returncode)
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            output, _ = process.communicate()
            code = None
        finally:
            with self._lock:
                self._live.discard(process)
        text = output.decode("utf-8", errors="replace")[-OUTPUT_LIMIT_CHARS:]
        return ExecResult(code, text)

    def kill_all(self) -> None:
        with self._lock:
            live = list(self._live)
        for process in live:
            signal_group(process, signal.SIGKILL)
