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

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from slagate.children import die_with_parent
from slagate.errors import ConfigError, LoadError
from slagate.load.options import HOST_ENV, SERVICES_ENV
from slagate.load.progress import (
    LoadStatus,
    RowsUpdate,
    apply_message,
    read_event,
    read_rows,
)
from slagate.load.workforce import Distribution
from slagate.scenario import format_services, shown_url
from slagate.timeline import EventRow

STOP_GRACE_S = 30.0


def load_command(
    scenario: Path, run_dir: Path, distribution: Distribution | None = None
) -> list[str]:
    """The child's command line; the target's URLs go in its environment
    (``target_environment``)."""
    argv = [sys.executable, "-m", "slagate.load", "--scenario", str(scenario)]
    argv += ["--run-dir", str(run_dir), "--commands-on-stdin"]
    return argv + (distribution.argv() if distribution is not None else [])


def target_environment(host: str, services: Mapping[str, str]) -> dict[str, str]:
    """The target's URLs as the child reads them (``LOCUST_HOST``, ``SLAGATE_SERVICES``).

    Not on its command line: a URL may carry user info (``http://user:secret@host``,
    Locust's basic auth), and any local user can read a command line (``ps``,
    ``/proc/PID/cmdline``), while a process's environment is readable by its own user
    only. Both are always set, so values inherited from the controller's shell never
    reach the child. ``SLAGATE_SERVICES`` separates its entries with commas, so a URL
    holding one is refused here (a ``ConfigError`` showing it without user info), before
    the child could split it and show half of a password."""
    for name, url in services.items():
        if "," in url:
            raise ConfigError(
                f"service {name}: the URL {shown_url(url)} contains a comma, which the load "
                "generator cannot be given (SLAGATE_SERVICES separates entries with commas); "
                "percent-encode it as %2C"
            )
    return {HOST_ENV: host, SERVICES_ENV: format_services(services)}


def worker_command(
    master_host: str, master_port: int, locustfile: str = "-", extra: Sequence[str] = ()
) -> list[str]:
    """A Locust worker with slagate's recorder (``slagate.load.worker``); ``-`` fetches
    the locustfile from the master."""
    argv = [sys.executable, "-m", "slagate.load.worker", "-f", locustfile]
    return [*argv, "--master-host", master_host, "--master-port", str(master_port), *extra]


class LoadFeed(Protocol):
    """Where the child's timeline rows and harness events go as they arrive (the live
    judge's feed); called from the reader thread."""

    def rows(self, update: RowsUpdate) -> None: ...

    def event(self, row: EventRow) -> None: ...


@dataclass
class LoadProcess:
    """A running load child; ``status`` is updated by a reader thread, which hands the
    child's timeline rows and events to ``feed`` (the live judge's) as they come."""

    proc: subprocess.Popen[str]
    log_path: Path
    status: LoadStatus = field(default_factory=LoadStatus)
    feed: LoadFeed | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reader: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path | None = None,
        feed: LoadFeed | None = None,
        env: Mapping[str, str] | None = None,
    ) -> LoadProcess:
        """Start the child with ``env`` added to this process's environment."""
        log = log_path.open("w")
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
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
        child = cls(proc=proc, log_path=log_path, feed=feed)
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
        if not isinstance(msg, dict):
            return
        rows, event = read_rows(msg), read_event(msg)
        if self.feed is not None and rows is not None:
            self.feed.rows(rows)
        if rows is not None:
            return
        if self.feed is not None and event is not None:
            self.feed.event(event)
        with self._lock:
            self.status = apply_message(self.status, msg)

    def snapshot(self) -> LoadStatus:
        with self._lock:
            return self.status

    def stop(self) -> None:
        """Ask the child to stop the load (it flushes and exits 3)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def abort(self, rule: str, message: str) -> None:
        """A safety stop decided here: the child stops the load at once, recording an
        ``abort`` event named ``rule`` with ``message`` (``python -m slagate.load
        --commands-on-stdin``); a SIGTERM if it no longer reads its commands."""
        command = {"type": "stop", "rule": rule, "message": message}
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):  # it exited or closed its end: stop it plainly
            self.stop()

    def wait(self, timeout_s: float | None = None) -> int:
        """Wait for the child; on timeout kill it. Returns its exit code."""
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        return code

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])
