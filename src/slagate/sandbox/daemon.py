"""The sandbox daemon: one process running a ``Sandbox`` until SIGTERM, and its control.

``serve`` is the daemon's body (``python -m slagate.sandbox serve``): it takes an
exclusive lock on ``STATE_DIR/daemon.lock`` (one daemon per state directory), works in
``STATE_DIR`` (pods inherit it, so relative paths in their args, like the overlay's
``--db products.db``, land there), starts the sandbox, writes ``STATE_DIR/state.json``
and waits for SIGTERM or SIGINT, then stops everything and removes ``state.json``.

``start_daemon`` / ``stop_daemon`` / ``running_state`` are what ``slagate sandbox
up|down|status`` do: start it detached (a session of its own, output to
``STATE_DIR/daemon.log``) and wait until ``state.json`` names it; SIGTERM it, wait,
SIGKILL as a last resort, and check with psutil that none of its processes is left.
A daemon is identified by pid *and* process start time, so a recycled pid is never
mistaken for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

import slagate
from slagate.errors import ConfigError, SandboxError
from slagate.sandbox.settings import DataPlane, SandboxSettings
from slagate.timeline import SandboxProfile

if TYPE_CHECKING:
    from slagate.sandbox.assembling import Sandbox

logger = logging.getLogger(__name__)

STATE_FILE = "state.json"
LOCK_FILE = "daemon.lock"
LOG_FILE = "daemon.log"
_LOG_TAIL_CHARS = 3000
_POLL_S = 0.1
_START_TIME_TOLERANCE_S = 0.05


@dataclass(frozen=True)
class DaemonState:
    """What ``state.json`` holds: who the daemon is and how to reach the sandbox."""

    pid: int
    started: float
    """The daemon process's start time (psutil ``create_time``, Unix seconds)."""
    name: str
    state_dir: str
    api_url: str
    kubeconfig: str
    services: dict[str, str] = field(default_factory=dict)
    """``namespace/name`` -> URL through the proxy."""
    manifests: list[str] = field(default_factory=list)
    proxy_pid: int | None = None
    pod_network: str = ""
    propagation_delay_s: float = 0.0
    """The longest the proxy lags behind EndpointSlice changes."""
    prometheus_url: str | None = None
    """The sandbox's Prometheus; None when it runs without one (no binary)."""
    profile: dict[str, Any] | None = None
    """Its timings and data plane (``SandboxProfile`` as JSON); None from an older slagate."""

    @property
    def data_plane(self) -> str:
        """The service proxy's profile (a ``DataPlane`` value); empty from an older slagate."""
        return str(self.profile.get("data_plane", "")) if self.profile is not None else ""

    @property
    def described_profile(self) -> str:
        """The timings and data plane in force, in one line (``SandboxProfile.describe``)."""
        if self.profile is None:
            return "timings: not recorded (started by an older slagate)"
        return SandboxProfile.model_validate(self.profile).describe()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DaemonState:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)


def read_state(state_dir: Path) -> DaemonState | None:
    """``state.json`` of ``state_dir``; None if absent or unreadable (a stale leftover)."""
    try:
        return DaemonState.from_json((state_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def write_state(state_dir: Path, state: DaemonState) -> None:
    temporary = state_dir / f".{STATE_FILE}.tmp"
    temporary.write_text(state.to_json(), encoding="utf-8")
    os.replace(temporary, state_dir / STATE_FILE)


def daemon_process(state: DaemonState) -> psutil.Process | None:
    """The live daemon process ``state`` describes, or None (gone or pid recycled)."""
    try:
        process = psutil.Process(state.pid)
        if abs(process.create_time() - state.started) > _START_TIME_TOLERANCE_S:
            return None
        return process if process.status() != psutil.STATUS_ZOMBIE else None
    except psutil.Error:
        return None


def running_state(state_dir: Path) -> DaemonState | None:
    """The state of the daemon running for ``state_dir``, None if there is none."""
    state = read_state(state_dir)
    return state if state is not None and daemon_process(state) is not None else None


# -- the daemon ---------------------------------------------------------------------------


def serve(
    state_dir: Path,
    manifests: Sequence[Path],
    name: str = "default",
    settings: SandboxSettings | None = None,
    *,
    timing: str | None = None,
    data_plane: DataPlane | None = None,
) -> None:
    """Run a sandbox until SIGTERM or SIGINT (installed here: call from the main thread);
    ``timing`` replaces the settings file's named timing (``--timing``), ``data_plane``
    its data plane (``--data-plane``)."""
    from slagate.sandbox.assembling import Sandbox

    state_dir = state_dir.resolve()
    manifests = [m.resolve() for m in manifests]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with _exclusive(state_dir):
        os.chdir(state_dir)
        sandbox = Sandbox.start(
            state_dir, manifests, settings, name=name, timing=timing, data_plane=data_plane
        )
        try:
            _publish_state(sandbox, name, manifests, stop)
        finally:
            logger.info("stopping the sandbox")
            (state_dir / STATE_FILE).unlink(missing_ok=True)
            sandbox.stop()


def _publish_state(
    sandbox: Sandbox, name: str, manifests: Sequence[Path], stop: threading.Event
) -> None:
    """Write ``state.json`` now and whenever the Service URLs change, until ``stop``."""
    me = psutil.Process()
    written: DaemonState | None = None
    while True:
        state = DaemonState(
            pid=me.pid,
            started=me.create_time(),
            name=name,
            state_dir=str(sandbox.state_dir),
            api_url=sandbox.api_url,
            kubeconfig=str(sandbox.kubeconfig),
            services={str(k): url for k, url in sorted(sandbox.service_urls().items())},
            manifests=[str(m) for m in manifests],
            proxy_pid=sandbox.proxy.pid,
            pod_network=str(sandbox.pod_network.network),
            propagation_delay_s=sandbox.routing_delay_s,
            prometheus_url=sandbox.prometheus_url,
            profile=sandbox.profile.model_dump(mode="json"),
        )
        if state != written:
            write_state(sandbox.state_dir, state)
            if written is None:
                logger.info("sandbox %r ready: %s", name, sandbox.api_url)
            written = state
        if stop.wait(0.5):
            return


@contextlib.contextmanager
def _exclusive(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise SandboxError(
                f"another sandbox daemon is running with state directory {state_dir}; "
                "stop it (slagate sandbox down) or use another --state-dir"
            ) from error
        yield


# -- controlling it -------------------------------------------------------------------------


def start_daemon(
    state_dir: Path,
    manifests: Sequence[Path],
    name: str,
    timeout_s: float,
    timing: str | None = None,
    data_plane: DataPlane | None = None,
) -> tuple[DaemonState, bool]:
    """Start the daemon detached unless one runs; (its state, whether it was started now).
    ``timing`` and ``data_plane`` are passed on as ``--timing`` and ``--data-plane``.
    ``SandboxError`` with the log tail if it exits or is not up within ``timeout_s``;
    ``ConfigError`` if one runs with another ``timing`` or ``data_plane`` than asked for."""
    state_dir = state_dir.resolve()
    running = running_state(state_dir)
    if running is not None:
        asked = {"timing": timing, "data_plane": data_plane.value if data_plane else None}
        _refuse_other_profile(running, name, asked)
        return running, False
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_FILE
    argv = [sys.executable, "-m", "slagate.sandbox", "serve", "--state-dir", str(state_dir)]
    argv += ["--name", name]
    if timing is not None:
        argv += ["--timing", timing]
    argv += ["--data-plane", data_plane.value] if data_plane is not None else []
    for manifest in manifests:
        argv += ["--manifests", str(manifest.resolve())]
    with log_path.open("ab") as log:
        log.write(f"--- {datetime.now(UTC).isoformat()} starting: {' '.join(argv)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_daemon_environment(),
            cwd=state_dir,
            start_new_session=True,
        )
    return _wait_started(popen, state_dir, timeout_s), True


def _refuse_other_profile(running: DaemonState, name: str, asked: dict[str, str | None]) -> None:
    """``ConfigError`` if the running sandbox has another timing or data plane than
    ``asked`` (None: any); reusing it would judge the run under a clock it did not ask for."""
    recorded = running.profile or {}
    for key, value in asked.items():
        if value is None or recorded.get(key) == value:
            continue
        option = "--" + key.replace("_", "-")
        has = recorded.get(key)
        runs = (
            f"runs with {key.replace('_', ' ')} {has}" if has else "was started by an older slagate"
        )
        raise ConfigError(
            f"{option} {value}: the sandbox {name!r} already {runs}; stop it first "
            "(slagate sandbox down)"
        )


def _wait_started(popen: subprocess.Popen[bytes], state_dir: Path, timeout_s: float) -> DaemonState:
    deadline = time.monotonic() + timeout_s
    while True:
        state = read_state(state_dir)
        if state is not None and state.pid == popen.pid:
            return state
        status = popen.poll()
        if status is not None:
            raise SandboxError(
                f"the sandbox daemon exited with status {status} while starting; "
                f"{state_dir / LOG_FILE} ends with:\n{log_tail(state_dir)}"
            )
        if time.monotonic() > deadline:
            _terminate(psutil.Process(popen.pid), timeout_s=10.0)
            popen.wait()
            raise SandboxError(
                f"the sandbox daemon was not ready after {timeout_s:g} s and was stopped; "
                f"{state_dir / LOG_FILE} ends with:\n{log_tail(state_dir)}"
            )
        time.sleep(_POLL_S)


@dataclass(frozen=True)
class Stopped:
    """What ``stop_daemon`` did: ``pid`` None when nothing was running."""

    pid: int | None
    killed: bool = False
    """True when SIGTERM was not enough and SIGKILL was sent."""


def stop_daemon(state_dir: Path, timeout_s: float) -> Stopped:
    """SIGTERM the daemon, SIGKILL it after ``timeout_s``, make sure none of its processes
    (pods, proxy) remain. Idempotent: nothing running is not an error."""
    state_dir = state_dir.resolve()
    state = read_state(state_dir)
    process = daemon_process(state) if state is not None else None
    if state is None or process is None:
        (state_dir / STATE_FILE).unlink(missing_ok=True)
        return Stopped(None)
    killed = _terminate(process, timeout_s)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return Stopped(state.pid, killed)


def _terminate(process: psutil.Process, timeout_s: float) -> bool:
    """SIGTERM ``process``, SIGKILL it and every descendant if needed; True if killed.
    ``SandboxError`` naming what survived."""
    try:
        family = [process, *process.children(recursive=True)]
        process.terminate()
    except psutil.NoSuchProcess:
        return False
    _, alive = psutil.wait_procs([process], timeout=timeout_s)
    killed = bool(alive)
    for survivor in [p for p in family if p.is_running()]:
        with contextlib.suppress(psutil.Error):
            survivor.kill()
    _, alive = psutil.wait_procs(family, timeout=5.0)
    if alive:
        names = ", ".join(f"{p.pid}" for p in alive)
        raise SandboxError(f"sandbox processes still running after SIGKILL: pids {names}")
    return killed


def log_tail(state_dir: Path, chars: int = _LOG_TAIL_CHARS) -> str:
    try:
        return (state_dir / LOG_FILE).read_bytes()[-chars:].decode("utf-8", errors="replace")
    except OSError as error:
        return f"(no daemon log: {error})"


def _daemon_environment() -> dict[str, str]:
    """This environment, importing this very slagate (the daemon runs in STATE_DIR)."""
    env = dict(os.environ)
    source_root = str(Path(slagate.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env
