"""Launching the load child (``python -m slagate.load``) and following it, from the controller.

The child streams its progress on stdout (``slagate.load.progress``); a reader thread
folds it into a ``LoadStatus`` that the run's view reads. Its stderr goes to ``load.log``
in the run folder so nothing it said is lost. If the controller dies (even by SIGKILL),
the kernel sends the child SIGTERM (``slagate.children.die_with_parent``): it stops the
load, flushes and exits, so no load outlives the run. Start it from a thread that lives
as long as the run (the signal follows the spawning thread). This module imports neither Locust nor
gevent: it runs in the controller process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slagate.children import die_with_parent
from slagate.errors import LoadError
from slagate.load.options import HOST_ENV, SERVICES_ENV
from slagate.load.progress import LoadStatus, apply_message
from slagate.scenario import format_services

STOP_GRACE_S = 30.0


def load_command(scenario: Path, run_dir: Path) -> list[str]:
    """The child's command line; the target's URLs go in its environment
    (``target_environment``)."""
    return [
        sys.executable,
        "-m",
        "slagate.load",
        "--scenario",
        str(scenario),
        "--run-dir",
        str(run_dir),
    ]


def target_environment(host: str, services: Mapping[str, str]) -> dict[str, str]:
    """The target's URLs as the child reads them (``LOCUST_HOST``, ``SLAGATE_SERVICES``).

    Not on its command line: a URL may carry user info (``http://user:secret@host``,
    Locust's basic auth), and any local user can read a command line (``ps``,
    ``/proc/PID/cmdline``), while a process's environment is readable by its own user
    only. Both are always set, so values inherited from the controller's shell never
    reach the child."""
    return {HOST_ENV: host, SERVICES_ENV: format_services(services)}


@dataclass
class LoadProcess:
    """A running load child; ``status`` is updated by a reader thread."""

    proc: subprocess.Popen[str]
    log_path: Path
    status: LoadStatus = field(default_factory=LoadStatus)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reader: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> LoadProcess:
        """Start the child with ``env`` added to this process's environment."""
        log = log_path.open("w")
        try:
            proc = subprocess.Popen(
                list(argv),
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=cwd,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        except OSError as e:
            raise LoadError(f"cannot start the load generator {argv[0]}: {e}") from e
        finally:
            log.close()
        child = cls(proc=proc, log_path=log_path)
        child._reader = threading.Thread(target=child._read, name="load-progress", daemon=True)
        child._reader.start()
        return child

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._apply(line)

    def _apply(self, line: str) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            return  # stray prints from a locustfile are not progress
        if isinstance(msg, dict):
            with self._lock:
                self.status = apply_message(self.status, msg)

    def snapshot(self) -> LoadStatus:
        with self._lock:
            return self.status

    def stop(self) -> None:
        """Ask the child to stop the load (it flushes and exits 3)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float | None = None) -> int:
        """Wait for the child; on timeout kill it. Returns its exit code."""
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])
