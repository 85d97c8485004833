"""Running a probe or a lifecycle hook action against a container, with a timeout.

``httpGet`` (HTTP or HTTPS without certificate checks, as upstream; 200-399 is success,
redirects are not followed, which upstream counts as success too), ``tcpSocket`` (a
connection opens) and ``exec`` (exit status 0). Blocking: these run on the kubelet's
worker threads, never on its loop. Messages read like upstream's, since they end up in
Unhealthy Events.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from slagate.sandbox.kubelet.images import with_python
from slagate.sandbox.kubelet.probe_states import http_success
from slagate.sandbox.kubelet.processes import ExecRunner
from slagate.sandbox.kubelet.specs import (
    Action,
    ContainerSpec,
    ExecAction,
    HttpGetAction,
    SleepAction,
    TcpSocketAction,
    UnsupportedAction,
)

USER_AGENT = "kube-probe/1.32"
_BODY_LIMIT_BYTES = 10 * 1024


@dataclass(frozen=True)
class Outcome:
    success: bool
    message: str = ""


@dataclass(frozen=True)
class ActionTarget:
    """The container an action is about: its pod IP (the default host), its spec (for
    named ports) and, for exec, its environment and working directory."""

    pod_ip: str
    container: ContainerSpec
    env: Mapping[str, str]
    cwd: Path
    python: str


class Prober:
    """Performs actions; ``runner`` runs exec commands, ``clock`` times HTTP answers."""

    def __init__(self, runner: ExecRunner, clock: Callable[[], float] = time.monotonic) -> None:
        self._runner = runner
        self._clock = clock

    def perform(self, action: Action, target: ActionTarget, timeout_s: float) -> Outcome:
        if isinstance(action, HttpGetAction):
            return self._http_get(action, target, timeout_s)
        if isinstance(action, TcpSocketAction):
            return _tcp_socket(action, target, timeout_s)
        if isinstance(action, ExecAction):
            return self._exec(action, target, timeout_s)
        if isinstance(action, SleepAction):
            return Outcome(False, "sleep is a lifecycle hook, not a probe action")
        assert isinstance(action, UnsupportedAction)
        return Outcome(False, action.description)

    def _http_get(self, action: HttpGetAction, target: ActionTarget, timeout_s: float) -> Outcome:
        port = target.container.port_number(action.port)
        if port is None:
            return _no_port(action.port, target)
        host = action.host or target.pod_ip
        path = action.path if action.path.startswith("/") else f"/{action.path}"
        url = f"{action.scheme.lower()}://{host}:{port}{path}"
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*", **dict(action.headers)}
        started = self._clock()
        try:
            status = _get(action.scheme, host, port, path, headers, timeout_s)
        except (OSError, http.client.HTTPException) as error:
            return Outcome(False, f'Get "{url}": {str(error) or type(error).__name__}')
        elapsed = self._clock() - started
        if http_success(status, elapsed, timeout_s):
            return Outcome(True)
        if 200 <= status < 400:
            return Outcome(False, f'Get "{url}": context deadline exceeded after {elapsed:.1f}s')
        return Outcome(False, f"HTTP probe failed with statuscode: {status}")

    def _exec(self, action: ExecAction, target: ActionTarget, timeout_s: float) -> Outcome:
        argv = with_python(action.command, target.python)
        if not argv:
            return Outcome(False, "exec action without a command")
        try:
            result = self._runner.run(argv, target.env, target.cwd, timeout_s)
        except OSError as error:
            return Outcome(False, f"exec {argv[0]!r}: {error}")
        if result.exit_code is None:
            return Outcome(False, f"command {' '.join(argv)!r} timed out after {timeout_s:g}s")
        if result.exit_code == 0:
            return Outcome(True, result.output)
        return Outcome(False, result.output.strip() or f"exit status {result.exit_code}")


def _get(
    scheme: str, host: str, port: int, path: str, headers: dict[str, str], timeout_s: float
) -> int:
    connection: http.client.HTTPConnection
    if scheme == "HTTPS":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, port, timeout=timeout_s, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read(_BODY_LIMIT_BYTES)
        return response.status
    finally:
        connection.close()


def _tcp_socket(action: TcpSocketAction, target: ActionTarget, timeout_s: float) -> Outcome:
    port = target.container.port_number(action.port)
    if port is None:
        return _no_port(action.port, target)
    host = action.host or target.pod_ip
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return Outcome(True)
    except OSError as error:
        return Outcome(False, f"dial tcp {host}:{port}: {error}")


def _no_port(port: int | str, target: ActionTarget) -> Outcome:
    return Outcome(
        False, f"port {port!r} is not a named port of container {target.container.name!r}"
    )
