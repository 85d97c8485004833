"""The cluster side of a run: sandbox (optional), connection, preflight, recorder, actions.

``ClusterSession.open`` does everything that must happen before load (so a refused
permission or a missing Service ends the run with exit 2 before any request), then
records the namespace until ``close``. Actions are scheduled once the load child reports
its ``load_start``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from slagate.errors import ConfigError, SandboxError
from slagate.kube.acting import ActionRunner
from slagate.kube.connecting import KubeConnection, KubeOptions, connect
from slagate.kube.preflight import preflight_cluster
from slagate.kube.resolving import resolve_urls
from slagate.kube.watching import ClusterRecorder
from slagate.sandbox import DEFAULT_MANIFESTS, DEPLOYMENTS, Sandbox, Selection
from slagate.scenario import KubeTarget, Scenario

SANDBOX_READY_TIMEOUT_S = 90.0
POLL_S = 0.2


@dataclass(frozen=True)
class ClusterOptions:
    """``--kubeconfig``/``--context``/``--namespace`` for a real cluster, or ``--sandbox``
    (with ``--manifests``) for the embedded one, started for this run and stopped after."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str | None = None
    sandbox: bool = False
    manifests: tuple[Path, ...] = ()

    def check(self) -> None:
        """Option mistakes that need no cluster to find: before any folder or process."""
        for path in self.manifests:
            if not path.exists():
                raise ConfigError(f"--manifests {path}: no such file or directory")
        if self.kubeconfig is not None and not self.kubeconfig.is_file():
            raise ConfigError(f"--kubeconfig {self.kubeconfig}: no such file")

    def wanted(self, scenario: Scenario) -> bool:
        chosen = self.sandbox or self.kubeconfig is not None or self.context is not None
        return chosen or scenario.target.kubernetes is not None


class ClusterSession:
    """A connected, recording cluster for the duration of one run."""

    def __init__(
        self,
        connection: KubeConnection,
        recorder: ClusterRecorder,
        actions: ActionRunner,
        sandbox: Sandbox | None,
        host: str | None,
        services: dict[str, str],
    ) -> None:
        self.connection = connection
        self.recorder = recorder
        self.actions = actions
        self.sandbox = sandbox
        self.host = host
        self.services = services
        self._actions_started = False
        self._closed = False

    @classmethod
    def open(
        cls,
        scenario: Scenario,
        opts: ClusterOptions,
        run_dir: Path,
        console: Console,
        clock: Callable[[], float] = time.time,
    ) -> ClusterSession:
        """Start the sandbox if asked, connect, preflight, resolve URLs, start recording."""
        sandbox = _start_sandbox(opts, run_dir, console, clock) if opts.sandbox else None
        try:
            return cls._connect(scenario, opts, run_dir, sandbox, console, clock)
        except BaseException:
            if sandbox is not None:
                sandbox.stop()
            raise

    @classmethod
    def _connect(
        cls,
        scenario: Scenario,
        opts: ClusterOptions,
        run_dir: Path,
        sandbox: Sandbox | None,
        console: Console,
        clock: Callable[[], float],
    ) -> ClusterSession:
        kubeconfig = sandbox.kubeconfig if sandbox is not None else opts.kubeconfig
        kube_opts = KubeOptions(kubeconfig, None if sandbox else opts.context, opts.namespace)
        target = scenario.target.kubernetes or KubeTarget()
        connection = connect(kube_opts, target)
        console.print(f"cluster {connection.server} namespace {connection.namespace}")
        preflight_cluster(connection, scenario)
        host, services = resolve_urls(connection.api_client, connection.namespace, target)
        recorder = ClusterRecorder(connection.api_client, connection.namespace, run_dir, clock)
        recorder.start()
        actions = ActionRunner(
            connection.api_client, connection.namespace, scenario.actions, run_dir, clock
        )
        return cls(connection, recorder, actions, sandbox, host, services)

    def load_started(self, load_start_ms: int) -> None:
        """Schedule the scenario's actions relative to the load start (once)."""
        if not self._actions_started:
            self._actions_started = True
            self.actions.start(load_start_ms / 1000.0)

    def wait_actions(self, timeout_s: float) -> bool:
        """Wait for running actions (rollout waits) to end; False on timeout."""
        return self.actions.join(timeout_s) if self._actions_started else True

    def close(self) -> None:
        """Stop actions and recording, disconnect, stop the sandbox (pods gracefully).
        Idempotent: the run closes the session before judging and again on errors."""
        if self._closed:
            return
        self._closed = True
        try:
            self.actions.stop()
            self.recorder.stop()
            self.connection.close()
        finally:
            if self.sandbox is not None:
                self.sandbox.stop()


def _start_sandbox(
    opts: ClusterOptions, run_dir: Path, console: Console, clock: Callable[[], float]
) -> Sandbox:
    manifests = opts.manifests or (DEFAULT_MANIFESTS,)
    if not all(p.exists() for p in manifests):
        raise ConfigError(
            f"{', '.join(map(str, manifests))}: no such manifests; pass --manifests DIR "
            "or run from the slagate checkout (deploy/shop/sandbox)"
        )
    console.print(f"starting the sandbox cluster with {', '.join(map(str, manifests))}")
    sandbox = Sandbox.start(run_dir / "sandbox", manifests, clock=clock)
    try:
        wait_deployments_ready(sandbox, SANDBOX_READY_TIMEOUT_S)
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def wait_deployments_ready(sandbox: Sandbox, timeout_s: float) -> None:
    """Block until every Deployment is fully available and the proxy has caught up.

    Reads the sandbox's in-process store (no API requests, so the run's request counts
    stay one list and one watch per kind)."""
    deadline = time.monotonic() + timeout_s
    while True:
        waiting = _unready(sandbox.store.list(Selection(DEPLOYMENTS)).items)
        if not waiting:
            time.sleep(sandbox.settings.endpoint_propagation_delay_s + 0.2)
            return
        if time.monotonic() > deadline:
            raise SandboxError(
                f"the sandbox deployments were not ready within {timeout_s:g} s: "
                f"{', '.join(waiting)}; see the pod logs under {sandbox.state_dir / 'pods'}"
            )
        time.sleep(POLL_S)


def _unready(deployments: Sequence[dict[str, object]]) -> list[str]:
    out = []
    for d in deployments:
        spec = d.get("spec") or {}
        status = d.get("status") or {}
        want = int(spec.get("replicas", 1)) if isinstance(spec, dict) else 1
        have = int(status.get("availableReplicas", 0) or 0) if isinstance(status, dict) else 0
        if have < want:
            meta = d.get("metadata") or {}
            out.append(f"{meta.get('name') if isinstance(meta, dict) else '?'} {have}/{want}")
    return out
