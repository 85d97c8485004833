"""The cluster side of a run: the cluster (a real one, or a sandbox started for the run),
connection, preflight, recorder and actions.

``ClusterSession.open`` does everything that must happen before load (so a refused
permission or a missing Service ends the run with exit 2 before any request), then
records the namespace until ``close``. Actions are scheduled once the load child reports
its ``load_start``. ``run_ended`` is the one place the run's outcome reaches the
cluster: it stops the actions and, when the run did not pass, undoes the rollouts that
say ``on_fail: rollback``.

The run never imports the sandbox: the CLI passes a ``StartCluster`` that starts one
(``ClusterOptions.sandbox``), and the run waits for its Deployments through the official
client with the rule ``kubectl rollout status`` applies, like any other cluster.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from slagate.errors import ConfigError, ExitCode, PreflightError, RolloutError
from slagate.kube.acting import ActionRunner
from slagate.kube.connecting import KubeConnection, KubeOptions, connect
from slagate.kube.preflight import preflight_cluster
from slagate.kube.resolving import resolve_urls
from slagate.kube.rolling_back import RollbackOutcome, roll_back
from slagate.kube.streaming import StopSignal
from slagate.kube.waiting import RolloutWaiter
from slagate.kube.watching import ClusterRecorder
from slagate.run.viewing import RunView
from slagate.scenario import KubeTarget, Scenario, SettingsLayer
from slagate.timeline import ClusterInfo, SandboxProfile

SANDBOX_READY_TIMEOUT_S = 90.0
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A Kubernetes namespace name (an RFC 1123 label)."""


class ProvidedCluster(Protocol):
    """A cluster started for one run (the embedded sandbox) and stopped after it."""

    @property
    def kubeconfig(self) -> Path: ...

    @property
    def state_dir(self) -> Path:
        """Where its files are: state, pod logs (under ``pods/``)."""

    @property
    def routing_delay_s(self) -> float:
        """How long a Service's data plane lags its EndpointSlices (the proxy's delay)."""

    @property
    def prometheus_url(self) -> str | None:
        """Its Prometheus (scraping its pods, proxy and state), None when it runs none."""

    @property
    def profile(self) -> SandboxProfile:
        """The timings and the data plane it runs with: the verdict holds under these."""

    def stop(self) -> None: ...


StartCluster = Callable[[Path, Sequence[Path], SettingsLayer], ProvidedCluster]
"""``(state_dir, manifests, assumed) -> ProvidedCluster``: applies the manifests, returns at
once; ``assumed`` is the scenario's ``sandbox:`` block, laid over the settings file's."""


@dataclass(frozen=True)
class ClusterOptions:
    """``--kubeconfig``/``--context``/``--namespace`` for a real cluster, or ``sandbox``
    (with ``manifests``) for one started for this run and stopped after."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str | None = None
    sandbox: StartCluster | None = None
    manifests: tuple[Path, ...] = ()

    def check(self) -> None:
        """Option mistakes that need no cluster to find: before any folder or process."""
        for path in self.manifests:
            if not path.exists():
                raise ConfigError(f"--manifests {path}: no such file or directory")
        if self.kubeconfig is not None and not self.kubeconfig.is_file():
            raise ConfigError(f"--kubeconfig {self.kubeconfig}: no such file")
        if self.namespace is not None and not _NAMESPACE.fullmatch(self.namespace):
            raise ConfigError(
                f"--namespace {self.namespace!r}: not a namespace name (lower-case letters, "
                "digits and '-', starting and ending with a letter or digit, at most 63)"
            )

    def wanted(self, scenario: Scenario) -> bool:
        chosen = self.sandbox is not None or self.kubeconfig is not None or bool(self.context)
        return chosen or scenario.target.kubernetes is not None


class ClusterSession:
    """A connected, recording cluster for the duration of one run."""

    def __init__(
        self,
        connection: KubeConnection,
        recorder: ClusterRecorder,
        actions: ActionRunner,
        provided: ProvidedCluster | None,
        host: str | None,
        services: dict[str, str],
        run_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection = connection
        self.recorder = recorder
        self.actions = actions
        self.provided = provided
        self.host = host
        self.services = services
        self._run_dir = run_dir
        self._clock = clock
        self._actions_started = False
        self._closed = False

    @classmethod
    def open(
        cls,
        scenario: Scenario,
        opts: ClusterOptions,
        run_dir: Path,
        view: RunView,
        clock: Callable[[], float] = time.time,
        source: str = "scenario: sandbox",
    ) -> ClusterSession:
        """Start the sandbox if asked, connect, preflight, resolve URLs, start recording.
        ``source`` names the scenario file in messages about its ``sandbox:`` block."""
        provided = None
        if opts.sandbox is not None:
            provided = _start_provided(opts, SettingsLayer(source, scenario.sandbox), run_dir, view)
        try:
            return cls._connect(scenario, opts, run_dir, provided, view, clock)
        except BaseException:
            if provided is not None:
                provided.stop()
            raise

    @classmethod
    def _connect(
        cls,
        scenario: Scenario,
        opts: ClusterOptions,
        run_dir: Path,
        provided: ProvidedCluster | None,
        view: RunView,
        clock: Callable[[], float],
    ) -> ClusterSession:
        kubeconfig = provided.kubeconfig if provided is not None else opts.kubeconfig
        context = None if provided is not None else opts.context
        target = scenario.target.kubernetes or KubeTarget()
        connection = connect(KubeOptions(kubeconfig, context, opts.namespace), target)
        view.say(f"cluster {connection.server} namespace {connection.namespace}")
        if provided is not None:
            _wait_rolled_out(connection, provided, view)
        preflight_cluster(connection, scenario)
        host, services = resolve_urls(connection.api_client, connection.namespace, target)
        recorder = ClusterRecorder(connection.api_client, connection.namespace, run_dir, clock)
        recorder.start()
        actions = ActionRunner(
            connection.api_client, connection.namespace, scenario.actions, run_dir, clock
        )
        return cls(connection, recorder, actions, provided, host, services, run_dir, clock)

    def info(self, context: str | None) -> ClusterInfo:
        """What run.json records of this cluster (no credentials)."""
        return ClusterInfo(
            server=self.connection.server,
            namespace=self.connection.namespace,
            context=None if self.provided is not None else context,
            sandbox=self.provided is not None,
            prometheus_url=self.prometheus_url,
            sandbox_profile=self.provided.profile if self.provided is not None else None,
        )

    @property
    def namespace(self) -> str:
        return self.connection.namespace

    @property
    def prometheus_url(self) -> str | None:
        return self.provided.prometheus_url if self.provided is not None else None

    def load_started(self, load_start_ms: int) -> None:
        """Schedule the scenario's actions relative to the load start (once)."""
        if not self._actions_started:
            self._actions_started = True
            self.actions.start(load_start_ms / 1000.0)

    @property
    def actions_pending(self) -> bool:
        return self._actions_started and self.actions.pending > 0

    def wait_actions(self, timeout_s: float) -> bool:
        """Wait for running actions (rollout waits) to end; False on timeout."""
        return self.actions.join(timeout_s) if self._actions_started else True

    @property
    def rolls_back(self) -> bool:
        """A rollout with ``on_fail: rollback`` has begun: the run's outcome matters here."""
        return bool(self.actions.rollback_targets)

    def run_ended(self, exit_code: ExitCode, why: str, stop: StopSignal) -> list[RollbackOutcome]:
        """What the cluster does about the run's outcome, once, at its end: passed,
        failed (an SLA, or a safety stop) or aborted from outside. Running actions are
        stopped; unless the run passed, every Deployment a rollout with ``on_fail:
        rollback`` changed is undone to its revision from before (``kube.rolling_back``),
        recorded as ``rollback_start``/``rollback_end`` while the recorder still runs.
        ``stop`` cuts the undo's waits short."""
        self.actions.stop()
        targets = self.actions.rollback_targets
        if exit_code is ExitCode.PASSED or not targets:
            return []
        return roll_back(
            self.connection.api_client,
            self.namespace,
            targets,
            why,
            self._run_dir,
            stop,
            self._clock,
        )

    def close(self) -> None:
        """Stop actions and recording, disconnect, stop a provided cluster (pods gracefully).
        Idempotent: the run closes the session before judging and again on errors."""
        if self._closed:
            return
        self._closed = True
        try:
            self.actions.stop()
            self.recorder.stop()
            self.connection.close()
        finally:
            if self.provided is not None:
                self.provided.stop()


def _start_provided(
    opts: ClusterOptions, assumed: SettingsLayer, run_dir: Path, view: RunView
) -> ProvidedCluster:
    assert opts.sandbox is not None
    shown = ", ".join(map(str, opts.manifests)) or "the default manifests"
    view.say(f"starting the sandbox cluster with {shown}")
    provided = opts.sandbox(run_dir / "sandbox", opts.manifests, assumed)
    view.say(f"sandbox {provided.profile.describe()}")
    return provided


def _wait_rolled_out(connection: KubeConnection, provided: ProvidedCluster, view: RunView) -> None:
    """Every Deployment rolled out (``kubectl rollout status``), then the data plane's lag:
    a freshly started cluster serves no load before its pods are ready and routed."""
    view.say("waiting for the sandbox's deployments to roll out")
    waiter = RolloutWaiter(connection.api_client, connection.namespace, StopSignal())
    try:
        waiter.wait_all_complete(time.monotonic() + SANDBOX_READY_TIMEOUT_S)
    except RolloutError as e:
        raise PreflightError(
            f"the sandbox's deployments did not roll out within {SANDBOX_READY_TIMEOUT_S:g} s "
            f"({e}); its pod logs are under {provided.state_dir / 'pods'}"
        ) from e
    time.sleep(provided.routing_delay_s)
