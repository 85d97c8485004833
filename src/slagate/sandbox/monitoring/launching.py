"""The sandbox's Prometheus: a real ``prometheus`` server as a child process.

``find_prometheus`` looks for the binary: ``SLAGATE_PROMETHEUS`` if set (a path or a
name on ``PATH``), else ``prometheus`` on ``PATH``, else ``/usr/bin/prometheus`` (Debian's
package). ``PrometheusServer.start`` writes ``STATE_DIR/prometheus/prometheus.yml``, starts
from an empty TSDB in ``STATE_DIR/prometheus/data`` (the sandbox's cluster starts empty
too), listens on a free loopback port and returns once ``/-/ready`` answers; its output
goes to ``STATE_DIR/prometheus.log``. The child gets SIGKILL if the thread that started it
ends (``die_with_parent``), so a killed sandbox leaves no Prometheus behind; ``stop``
sends SIGTERM (Prometheus flushes its head block) and SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from slagate.children import die_with_parent, log_tail, stop_child
from slagate.errors import SandboxError

logger = logging.getLogger(__name__)

ENV_BINARY = "SLAGATE_PROMETHEUS"
DEBIAN_BINARY = Path("/usr/bin/prometheus")
INSTALL_HINT = (
    "install it with `apt-get install -y prometheus` (as root, Debian/Ubuntu) "
    f"or set {ENV_BINARY} to a prometheus binary"
)
HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_POLL_S = 0.1
_LOG_TAIL_CHARS = 2000
_START_ATTEMPTS = 3
"""A free port found for Prometheus may be taken before it binds it: try again."""


def find_prometheus(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Path | None:
    """The prometheus binary to run, or None when there is none (see the module)."""
    env = os.environ if environ is None else environ
    named = env.get(ENV_BINARY, "").strip()
    if named:
        found = which(named)
        return Path(found) if found else None
    found = which("prometheus")
    if found:
        return Path(found)
    return DEBIAN_BINARY if os.access(DEBIAN_BINARY, os.X_OK) else None


def missing_message(environ: Mapping[str, str] | None = None) -> str:
    """One line: Prometheus was not found, what that means, how to install it."""
    env = os.environ if environ is None else environ
    named = env.get(ENV_BINARY, "").strip()
    looked = f"{ENV_BINARY}={named} is not an executable" if named else "prometheus not found"
    return (
        f"{looked}: the sandbox runs without Prometheus (PromQL SLAs are refused); {INSTALL_HINT}"
    )


class PrometheusServer:
    """One Prometheus for one sandbox, configured by ``config`` (a prometheus.yml text)."""

    def __init__(self, binary: Path, state_dir: Path, config: str) -> None:
        self.binary = binary
        self.home = state_dir / "prometheus"
        self.log_path = state_dir / "prometheus.log"
        self._config = config
        self._popen: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> PrometheusServer:
        """Start and wait until ready; ``SandboxError`` with the log tail if it cannot."""
        shutil.rmtree(self.home / "data", ignore_errors=True)
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "prometheus.yml").write_text(self._config, encoding="utf-8")
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = _free_port()
            self._popen = self._spawn()
            if self._wait_ready(timeout_s):
                logger.info("Prometheus %s (pid %d) ready at %s", self.binary, self.pid, self.url)
                return self
            if attempt == _START_ATTEMPTS or "address already in use" not in self.log_tail():
                break
        self.stop()
        raise SandboxError(
            f"Prometheus ({self.binary}) did not become ready at {self.url} within "
            f"{timeout_s:g} s; {self.log_path} ends with:\n{self.log_tail()}"
        )

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM, SIGKILL after ``timeout_s``. Idempotent."""
        popen, self._popen = self._popen, None
        stop_child(popen, timeout_s, "Prometheus")

    def log_tail(self) -> str:
        return log_tail(self.log_path, _LOG_TAIL_CHARS)

    def _spawn(self) -> subprocess.Popen[bytes]:
        argv = [
            str(self.binary),
            f"--config.file={self.home / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.home / 'data'}",
            f"--web.listen-address={HOST}:{self.port}",
            "--log.level=warn",
        ]
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )

    def _wait_ready(self, timeout_s: float) -> bool:
        """True once ``/-/ready`` answers 200; False if the process exits or time is up."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.url, timeout=1.0, trust_env=False) as http:
            while time.monotonic() < deadline:
                if self._popen is None or self._popen.poll() is not None:
                    return False
                with contextlib.suppress(httpx.HTTPError):
                    if http.get("/-/ready").status_code == 200:
                        return True
                time.sleep(_POLL_S)
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_prometheus(
    state_dir: Path, config: str, environ: Mapping[str, str] | None = None
) -> PrometheusServer | None:
    """A ready Prometheus with ``config``, or None (and one warning saying how to install
    it) when there is no binary. ``SandboxError`` when the binary exists but fails."""
    binary = find_prometheus(environ)
    if binary is None:
        logger.warning("%s", missing_message(environ))
        return None
    return PrometheusServer(binary, state_dir, config).start()
