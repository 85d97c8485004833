"""One container of a pod: its process, its probes, its restarts and how it is stopped.

Everything here runs on the kubelet's loop thread (``Reactor``): a probe's request goes
to a worker thread and its result comes back as a callback; timers drive probe periods,
back-off and SIGKILL deadlines. Each process started is a *run*; callbacks carry the run
they were made for and are dropped once the container has moved on to another one.

The timing decisions are the pure ones of ``probe_states`` (when to probe, what a result
means), ``termination`` (when SIGTERM and SIGKILL come) and ``backoff`` (when a crashed
container restarts, when a failed image pull is tried again).

An image the sandbox cannot run is an image no registry has, as upstream's kubelet
(``images/image_manager.go`` ``EnsureImageExists``) reports it: Events ``Pulling``,
``Failed`` (``Failed to pull image "x": ...``) and ``Failed`` (``Error: ErrImagePull``),
the container waiting with reason ``ErrImagePull``; the pod's next sync (``PULL_RESYNC_S``
later, or half the back-off if that is shorter) finds the pull in back-off: ``BackOff``
(``Back-off pulling image "x"``), ``Failed`` (``Error: ImagePullBackOff``), reason
``ImagePullBackOff``;
once the back-off (``image_pull_backoff_initial_s`` doubling to ``..._max_s``) is over,
the pull is tried again.
"""

from __future__ import annotations

import contextlib
import enum
import signal
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from slagate.errors import ContainerStartError
from slagate.sandbox.kubelet.backoff import Backoff, advance, go_duration, restart_at
from slagate.sandbox.kubelet.events import NORMAL, WARNING, PodRef
from slagate.sandbox.kubelet.images import pull_problem
from slagate.sandbox.kubelet.node import Node
from slagate.sandbox.kubelet.pidnamespaces import resolvable, signal_init
from slagate.sandbox.kubelet.probe_states import (
    ProbeKind,
    ProbeResult,
    ProbeState,
    initial_state,
    is_ready,
    is_started,
    next_probe_at,
    on_container_restart,
    on_deletion,
    probe_allowed_at,
    record,
    should_probe,
)
from slagate.sandbox.kubelet.probing import ActionTarget, Outcome
from slagate.sandbox.kubelet.processes import exit_code, signal_group, spawn
from slagate.sandbox.kubelet.reactor import Timer
from slagate.sandbox.kubelet.specs import ContainerSpec, Probe, RestartPolicy, SleepAction
from slagate.sandbox.kubelet.status import (
    ContainerState,
    ContainerView,
    Running,
    Terminated,
    Waiting,
)
from slagate.sandbox.kubelet.termination import MINIMUM_GRACE_S, plan_termination

LOG_TAIL_LINES = 80
LOG_TAIL_BYTES = 2048
"""How much of the log a FallbackToLogsOnError message keeps (upstream's
MaxContainerTerminationMessageLogLines and ...LogLength)."""
PULL_RESYNC_S = 1.0
"""How soon after a failed pull the pod syncs again and shows ImagePullBackOff (upstream:
the pod worker's resync after an error, about a second)."""
START_ERROR_EXIT_CODE = 128
"""What runtimes report for a container whose program could not be executed."""
_RETRY_SOON_S = 0.01


@dataclass(frozen=True)
class Launch:
    """How to start a container: the host command line and the full environment."""

    argv: tuple[str, ...]
    env: Mapping[str, str]


class PodOwner(Protocol):
    """What a container needs from its pod."""

    @property
    def ref(self) -> PodRef: ...

    @property
    def pod_ip(self) -> str: ...

    @property
    def restart_policy(self) -> RestartPolicy: ...

    @property
    def grace_s(self) -> int:
        """``terminationGracePeriodSeconds``: also the grace of a probe-triggered kill."""
        ...

    @property
    def terminating(self) -> bool:
        """Deleted or shutting down: containers stop and never restart."""
        ...

    @property
    def log_path(self) -> Path: ...

    def launch(self, spec: ContainerSpec) -> Launch:
        """``ContainerStartError`` if the container cannot be started."""
        ...

    def changed(self) -> None:
        """Something the pod's status shows changed."""
        ...

    def container_done(self) -> None:
        """A container stopped for good."""
        ...


class StopReason(enum.Enum):
    TERMINATION = "termination"
    """The pod is deleted or the kubelet stops: the container does not come back."""
    PROBE = "probe"
    """A liveness or startup probe failed: the container restarts as its policy says."""


@dataclass
class _Stopping:
    since_s: float
    grace_s: int
    reason: StopReason
    signalled: bool = False


class ContainerWorker:
    """Runs one container of a pod; loop thread only."""

    def __init__(
        self,
        spec: ContainerSpec,
        pod: PodOwner,
        node: Node,
        policy: RestartPolicy | None = None,
        waiting: str = "ContainerCreating",
    ) -> None:
        """``policy`` replaces the pod's ``restartPolicy`` (init containers have their
        own, ``initializing.init_policy``); ``waiting`` is the reason shown until it
        starts (``PodInitializing`` while init containers run)."""
        self.spec = spec
        self.state: ContainerState = Waiting(waiting)
        self._policy = policy
        self.last_state: Terminated | None = None
        self.done = False
        """Stopped for good: terminated and not restarting, or never to start."""
        self._pod = pod
        self._node = node
        self._process: subprocess.Popen[bytes] | None = None
        self._container_id = ""
        self._runs = 0
        self._started_s = 0.0
        self._backoff: Backoff | None = None
        self._pull_backoff: Backoff | None = None
        self._probes: dict[ProbeKind, ProbeState] = {
            probe.kind: initial_state(probe.kind) for probe in spec.probes
        }
        self._probe_timers: dict[ProbeKind, Timer] = {}
        self._probing: set[ProbeKind] = set()
        self._timers: list[Timer] = []
        self._stopping: _Stopping | None = None
        self._target: ActionTarget | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def view(self) -> ContainerView:
        running = self._process is not None
        startup = self._probes.get(ProbeKind.STARTUP)
        readiness = self._probes.get(ProbeKind.READINESS)
        return ContainerView(
            name=self.spec.name,
            image=self.spec.image,
            state=self.state,
            last_state=self.last_state,
            ready=is_ready(running, startup, readiness),
            started=running and is_started(startup),
            restart_count=max(0, self._runs - 1),
            container_id=self._container_id,
            sidecar=self.spec.sidecar,
        )

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start a process for the container (its first, or a restart)."""
        if self.done or self._pod.terminating or not self._pulled():
            return
        try:
            launch = self._pod.launch(self.spec)
        except ContainerStartError as error:
            self.state = Waiting(error.reason, error.message)
            self._event(WARNING, error.event_reason, error.event_message)
            self._pod.changed()
            return
        now = self._node.clock()
        self._runs += 1
        try:
            process = self._spawn(launch)
        except OSError as error:
            message = f"failed to start {launch.argv[0]!r}: {error}"
            self._event(WARNING, "Failed", f"Error: {message}")
            self._finished(Terminated(START_ERROR_EXIT_CODE, "StartError", now, now, "", message))
            return
        self._running(process, launch, now)

    def _spawn(self, launch: Launch) -> subprocess.Popen[bytes]:
        """Start the process, as PID 1 of its own PID namespace where the node can
        (``pidnamespaces``). ``OSError`` if the program cannot be executed."""
        isolation = self._node.pid_isolation
        if isolation.available and not resolvable(launch.argv[0], launch.env.get("PATH")):
            raise FileNotFoundError(2, "no such file or directory in $PATH", launch.argv[0])
        argv = isolation.wrap(launch.argv)
        return spawn(argv, launch.env, self._node.cwd, self._pod.log_path)

    def _pulled(self) -> bool:
        """The image is there; else the pull fails (ErrImagePull), back-off shown at the
        next sync (ImagePullBackOff) and the pull retried when it is over."""
        image = self.spec.image
        problem = pull_problem(image)
        if problem is None:
            return True
        now = self._node.clock()
        settings = self._node.settings
        self._pull_backoff = advance(
            self._pull_backoff,
            now,
            settings.image_pull_backoff_initial_s,
            settings.image_pull_backoff_max_s,
        )
        self._event(NORMAL, "Pulling", f'Pulling image "{image}"')
        self._event(WARNING, "Failed", f'Failed to pull image "{image}": {problem}')
        self._event(WARNING, "Failed", "Error: ErrImagePull")
        self.state = Waiting("ErrImagePull", problem)
        self._pod.changed()
        due_s = now + self._pull_backoff.delay_s
        reactor = self._node.reactor
        shown_s = now + min(PULL_RESYNC_S, self._pull_backoff.delay_s / 2)
        self._timers.append(reactor.call_at(shown_s, self._pull_backing_off))
        self._timers.append(reactor.call_at(due_s, self.start))
        return False

    def _pull_backing_off(self) -> None:
        if self.done or self._pod.terminating or not isinstance(self.state, Waiting):
            return
        image = self.spec.image
        self._event(NORMAL, "BackOff", f'Back-off pulling image "{image}"')
        self._event(WARNING, "Failed", "Error: ImagePullBackOff")
        self.state = Waiting("ImagePullBackOff", f'Back-off pulling image "{image}"')
        self._pod.changed()

    def terminate(self, grace_s: int) -> None:
        """The pod is deleted (or the kubelet stops): preStop, SIGTERM, SIGKILL at the end
        of ``grace_s``. Liveness and startup probes stop; readiness goes on."""
        self._probes = {kind: on_deletion(state) for kind, state in self._probes.items()}
        if self._process is None:
            self._cancel_timers()
            self._set_done()
        elif self._stopping is None:
            self._event(NORMAL, "Killing", f"Stopping container {self.spec.name}")
            self._stop(grace_s, StopReason.TERMINATION)

    def shorten(self, grace_s: int) -> None:
        """A second delete with a shorter grace period: SIGKILL no later than that."""
        stopping = self._stopping
        if stopping is None or grace_s >= stopping.grace_s:
            return
        stopping.grace_s = grace_s
        run = self._runs
        deadline = self._node.clock() + max(grace_s, MINIMUM_GRACE_S)
        self._timers.append(self._node.reactor.call_at(deadline, lambda: self._sigkill(run)))

    def kill_now(self) -> None:
        """SIGKILL without hooks (the pod object is gone, or the kubelet gave up waiting)."""
        self._cancel_timers()
        if self._process is not None:
            signal_group(self._process, signal.SIGKILL)
        else:
            self._set_done()

    def reap(self, timeout_s: float) -> None:
        """Wait for a killed process to exit (at kubelet stop, when the loop is ending)."""
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout_s)

    # -- processes ---------------------------------------------------------------------

    def _running(self, process: subprocess.Popen[bytes], launch: Launch, now: float) -> None:
        self._process = process
        self._started_s = now
        self._container_id = f"sandbox://{process.pid}"
        self._target = ActionTarget(
            self._pod.pod_ip, self.spec, launch.env, self._node.cwd, self._node.python
        )
        self.state = Running(now)
        self._probes = {kind: on_container_restart(s) for kind, s in self._probes.items()}
        for probe in self.spec.probes:
            self._schedule_probe(probe, next_probe_at(probe.timing, now, self._probes[probe.kind]))
        run = self._runs
        self._node.reactor.on_exit(process, lambda code: self._exited(run, code))
        self._event(NORMAL, "Created", f"Created container {self.spec.name}")
        self._event(NORMAL, "Started", f"Started container {self.spec.name}")
        self._pod.changed()

    def _exited(self, run: int, returncode: int) -> None:
        if run != self._runs or self._process is None:
            return
        signal_group(self._process, signal.SIGKILL)  # what the container left behind
        self._process = None
        self._cancel_timers()
        stopping, self._stopping = self._stopping, None
        code = exit_code(returncode)
        reason = "Completed" if code == 0 else "Error"
        now = self._node.clock()
        message = self._log_tail() if code != 0 and self.spec.logs_on_error else ""
        terminated = Terminated(code, reason, now, self._started_s, self._container_id, message)
        by_probe = stopping is not None and stopping.reason is StopReason.PROBE
        self._finished(terminated, by_probe)

    def _log_tail(self) -> str:
        """The last ``LOG_TAIL_LINES`` lines of the pod's log, at most ``LOG_TAIL_BYTES``
        (the pod's containers share one log file in the sandbox)."""
        try:
            with self._pod.log_path.open("rb") as log:
                log.seek(0, 2)
                log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
                data = log.read()
        except OSError:
            return ""
        lines = data.decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]
        return "\n".join(lines)

    def _finished(self, terminated: Terminated, by_probe: bool = False) -> None:
        """Restart with back-off, or stay terminated."""
        if self._pod.terminating or not self._restarts(terminated, by_probe):
            self.state = terminated
            self._pod.changed()
            self._set_done()
            return
        self.last_state = terminated
        due_s = restart_at(self._backoff, terminated.finished_s)
        if due_s <= self._node.clock():
            self._restart(terminated.finished_s)
            return
        assert self._backoff is not None
        pod = self._pod.ref
        self.state = Waiting(
            "CrashLoopBackOff",
            f"back-off {go_duration(self._backoff.delay_s)} restarting failed container="
            f"{self.spec.name} pod={pod.name}_{pod.namespace}({pod.uid})",
        )
        self._event(
            WARNING,
            "BackOff",
            f"Back-off restarting failed container {self.spec.name} in pod "
            f"{pod.name}_{pod.namespace}({pod.uid})",
        )
        restart = self._node.reactor.call_at(due_s, lambda: self._restart(terminated.finished_s))
        self._timers.append(restart)
        self._pod.changed()

    def _restarts(self, terminated: Terminated, by_probe: bool) -> bool:
        policy = self._policy or self._pod.restart_policy
        if policy is RestartPolicy.ALWAYS:
            return True
        if policy is RestartPolicy.NEVER:
            return False
        return terminated.exit_code != 0 or by_probe

    def _restart(self, finished_s: float) -> None:
        if self.done or self._pod.terminating:
            return
        settings = self._node.settings
        self._backoff = advance(
            self._backoff,
            finished_s,
            settings.crashloop_backoff_initial_s,
            settings.crashloop_backoff_max_s,
        )
        self.start()

    def _set_done(self) -> None:
        if not self.done:
            self.done = True
            self._pod.container_done()

    # -- stopping ----------------------------------------------------------------------

    def _stop(self, grace_s: int, reason: StopReason) -> None:
        """preStop (cut at the grace period), then SIGTERM, then SIGKILL when due."""
        now = self._node.clock()
        self._stopping = _Stopping(now, grace_s, reason)
        hook = self.spec.pre_stop
        if hook is None or grace_s <= 0:
            self._send_sigterm(plan_termination(now, grace_s, None).sigkill_s)
            return
        run = self._runs
        reactor = self._node.reactor
        if isinstance(hook, SleepAction):
            end_s = now + min(hook.seconds, grace_s)
            self._timers.append(reactor.call_at(end_s, lambda: self._pre_stop_done(run, None)))
        else:
            self._run_hook_thread(run, grace_s)
        self._timers.append(reactor.call_at(now + grace_s, lambda: self._pre_stop_done(run, None)))

    def _run_hook_thread(self, run: int, grace_s: int) -> None:
        """exec and httpGet hooks block: each gets a thread, bounded by the grace period."""
        hook, target = self.spec.pre_stop, self._target
        assert hook is not None and target is not None
        prober, reactor = self._node.prober, self._node.reactor

        def run_hook() -> None:
            outcome = prober.perform(hook, target, grace_s)
            reactor.call_soon(lambda: self._pre_stop_done(run, outcome))

        name = f"kubelet-prestop-{self._pod.ref.name}-{self.spec.name}"
        threading.Thread(target=run_hook, name=name, daemon=True).start()

    def _pre_stop_done(self, run: int, outcome: Outcome | None) -> None:
        """The hook ended (``outcome``), or its time is up (None)."""
        stopping = self._stopping
        if run != self._runs or stopping is None or stopping.signalled:
            return
        if outcome is not None and not outcome.success:
            self._event(WARNING, "FailedPreStopHook", f"PreStopHook failed: {outcome.message}")
        ran_s = self._node.clock() - stopping.since_s
        self._send_sigterm(plan_termination(stopping.since_s, stopping.grace_s, ran_s).sigkill_s)

    def _send_sigterm(self, sigkill_s: float) -> None:
        assert self._process is not None and self._stopping is not None
        self._stopping.signalled = True
        if self._node.pid_isolation.available:
            signal_init(self._process.pid, signal.SIGTERM)  # PID 1 only, as a runtime does
        else:
            signal_group(self._process, signal.SIGTERM)
        run = self._runs
        self._timers.append(self._node.reactor.call_at(sigkill_s, lambda: self._sigkill(run)))

    def _sigkill(self, run: int) -> None:
        if run == self._runs and self._process is not None:
            signal_group(self._process, signal.SIGKILL)

    # -- probes ------------------------------------------------------------------------

    def _schedule_probe(self, probe: Probe, when_s: float) -> None:
        previous = self._probe_timers.pop(probe.kind, None)
        if previous is not None:
            previous.cancel()
        run = self._runs
        timer = self._node.reactor.call_at(when_s, lambda: self._probe_due(run, probe))
        self._probe_timers[probe.kind] = timer

    def _probe_due(self, run: int, probe: Probe) -> None:
        kind = probe.kind
        self._probe_timers.pop(kind, None)
        if run != self._runs or self._process is None or kind in self._probing:
            return
        state = self._probes[kind]
        now = self._node.clock()
        started = is_started(self._probes.get(ProbeKind.STARTUP))
        if not should_probe(state, started, deleting=self._pod.terminating):
            if not state.on_hold:
                self._schedule_probe(probe, now + probe.timing.period_s)
            return
        if not probe_allowed_at(probe.timing, self._started_s, now):
            self._schedule_probe(probe, now + _RETRY_SOON_S)
            return
        self._probing.add(kind)
        target, prober, reactor = self._target, self._node.prober, self._node.reactor
        assert target is not None

        def run_probe() -> None:
            outcome = prober.perform(probe.action, target, probe.timing.timeout_s)
            reactor.call_soon(lambda: self._probe_done(run, probe, now, outcome))

        self._node.workers.submit(run_probe)

    def _probe_done(self, run: int, probe: Probe, at_s: float, outcome: Outcome) -> None:
        kind = probe.kind
        if run != self._runs:
            return
        self._probing.discard(kind)
        before = self._probes[kind]
        if self._process is None or before.on_hold:
            return
        after = record(probe.timing, before, outcome.success, at_s)
        self._probes[kind] = after
        if not outcome.success:
            label = kind.value.capitalize()
            self._event(WARNING, "Unhealthy", f"{label} probe failed: {outcome.message}")
        if after.result is not before.result:
            self._pod.changed()
            readiness = self.spec.probe(ProbeKind.READINESS)
            if kind is ProbeKind.STARTUP and readiness is not None:
                self._schedule_probe(readiness, self._node.clock())
        if kind is not ProbeKind.READINESS and after.result is ProbeResult.FAILURE:
            self._kill_for_probe(probe)
        elif not after.on_hold:
            self._schedule_probe(probe, next_probe_at(probe.timing, self._started_s, after))

    def _kill_for_probe(self, probe: Probe) -> None:
        message = f"Container {self.spec.name} failed {probe.kind.value} probe, will be restarted"
        self._event(NORMAL, "Killing", message)
        if self._stopping is None:
            grace_s = probe.termination_grace_s
            self._stop(grace_s if grace_s is not None else self._pod.grace_s, StopReason.PROBE)

    # -- helpers -----------------------------------------------------------------------

    def _cancel_timers(self) -> None:
        for timer in [*self._timers, *self._probe_timers.values()]:
            timer.cancel()
        self._timers.clear()
        self._probe_timers.clear()
        self._probing.clear()

    def _event(self, type_: str, reason: str, message: str) -> None:
        ref = self._pod.ref.for_container(self.spec.name, self.spec.init)
        self._node.events.record(ref, type_, reason, message)
