"""One shop service as a child process: spawn, wait for readiness, signal, stop.

Children must not outlive their parent, even when the parent is SIGKILLed (a CI timeout,
a crashed test run): an orphaned replica would hold its port and its database and break
the next run. On Linux each child asks the kernel for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)`` in ``preexec_fn``); that needs no cooperation from the child
and no cleanup code that a SIGKILL would skip. The death signal fires when the *thread*
that spawned the child ends, so spawn from a long-lived thread (the main one, in tests).
Elsewhere only the normal stop paths (``stop``, context managers) apply.

Children get a session of their own so a terminal's Ctrl+C reaches only the parent, which
then stops them in order (orders before products) instead of all at once.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from slagate.children import child_environment, die_with_parent
from slagate.errors import ShopStartError

_POLL_INTERVAL_S = 0.05
_LOG_TAIL_CHARS = 3000


class ServiceProcess:
    """A running (or exited) shop service child and its address on loopback."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        url: str,
        log_path: Path,
        popen: subprocess.Popen[bytes],
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.url = url
        self.log_path = log_path
        self._popen = popen

    @classmethod
    def spawn(cls, name: str, argv: Sequence[str], url: str, log_path: Path) -> ServiceProcess:
        """Start ``argv`` with stdout and stderr appended to ``log_path``; do not wait."""
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_environment(),
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        return cls(name, argv, url, log_path, popen)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once exited (negative: killed by that signal), else None."""
        return self._popen.poll()

    def wait_ready(self, timeout_s: float) -> None:
        """Poll ``/healthz/ready`` until 200; raise ``ShopStartError`` if it exits or times out."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while not self._answers_ready(client):
                if self.returncode is not None:
                    raise self._start_error(f"exited with status {self.returncode}")
                if time.monotonic() > deadline:
                    raise self._start_error(f"was not ready after {timeout_s:g} s")
                time.sleep(_POLL_INTERVAL_S)

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` unless the process already exited (and was reaped)."""
        if self.returncode is None:
            self._popen.send_signal(sig)

    def wait(self, timeout_s: float) -> int | None:
        """Wait up to ``timeout_s`` for the exit; the exit status, or None if still running."""
        try:
            return self._popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace_s: float = 15.0) -> int:
        """SIGTERM, wait up to ``grace_s`` (as a kubelet would), then SIGKILL; the exit status."""
        self.send_signal(signal.SIGTERM)
        status = self.wait(grace_s)
        if status is None:
            self._popen.kill()
            status = self._popen.wait()
        return status

    def respawn(self) -> ServiceProcess:
        """A new process with the same command, port and log; this one must have exited."""
        if self.returncode is None:
            raise ShopStartError(f"{self.name} (pid {self.pid}) is still running; stop it first")
        return ServiceProcess.spawn(self.name, self.argv, self.url, self.log_path)

    def log_tail(self, chars: int = _LOG_TAIL_CHARS) -> str:
        try:
            text = self.log_path.read_bytes()[-chars:]
        except OSError as e:
            return f"(log {self.log_path} unreadable: {e})"
        return text.decode("utf-8", errors="replace")

    def _answers_ready(self, client: httpx.Client) -> bool:
        try:
            return client.get(f"{self.url}/healthz/ready").status_code == 200
        except httpx.TransportError:
            return False

    def _start_error(self, what: str) -> ShopStartError:
        return ShopStartError(
            f"{self.name} at {self.url} (pid {self.pid}) {what}; "
            f"log {self.log_path} ends with:\n{self.log_tail()}"
        )
