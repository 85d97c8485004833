"""The scenario's actions against the cluster, timed from load start, recorded as events.

``Actor`` performs one mutation the way kubectl does it:

- rollout restart: GET, then a strategic merge PATCH (``fieldManager=kubectl-rollout``) of
  ``spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]`` (RFC 3339);
- set image: GET (the container must exist), then a strategic merge PATCH of that
  container's image (``fieldManager=kubectl-set``);
- scale: PATCH of ``deployments/{name}/scale``;
- delete pod: by name, or one pod matching a label selector (not terminating, ready
  first, then by name), with an optional grace period.

``run_action`` wraps one action in harness events (table ``events``, source ``harness``,
``name`` = the action's label such as ``rollout_restart deployment/order``), in order:

- ``action_start`` before the mutation; message: the action's id, or the selector a
  ``delete_pod`` chose its pod by;
- ``rollout_complete`` when the Deployment satisfies ``kubectl rollout status``; message:
  ``revision N``;
- ``rollout_settled`` when no old pod is left: the end of the ``rollout`` window;
- ``action_failed`` when the action failed or timed out; message: why;
- ``action_end`` always, last; message: ``ok``, ``timeout``, ``stopped`` or the error.

``ActionRunner`` starts each action at ``load_start + at`` in its own thread (a rollout
wait never delays the next action) until ``stop``. Before a rollout action with
``on_fail: rollback`` begins, it reads the Deployment's revision: ``rollback_targets``
says what ``kube.rolling_back`` undoes if the run fails (the first such action of a
Deployment decides, so several rollouts are undone to the state before the first).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kubernetes import client

from slagate.errors import KubernetesError, RolloutStopped, RolloutTimeout
from slagate.kube.bodies import RawObject
from slagate.kube.connecting import api_call, server_of
from slagate.kube.resources import PODS, REPLICASETS
from slagate.kube.states import REVISION_ANNOTATION, pod_state
from slagate.kube.streaming import Query, StopSignal, list_objects, read_json
from slagate.kube.waiting import RolloutWaiter
from slagate.scenario import (
    ActionSpec,
    DeletePodAction,
    RolloutRestartAction,
    ScaleAction,
    SetImageAction,
)
from slagate.sla.formatting import shorten
from slagate.timeline import ERROR_TEXT_MAX, EventKind, EventRow, EventSource, Table, TableWriter

logger = logging.getLogger(__name__)
Clock = Callable[[], float]  # epoch seconds
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
EVENTS_WRITER = "kube-actions"


class Actor:
    """Performs actions in one namespace. ``clock`` stamps ``restartedAt``."""

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        clock: Clock = time.time,
        *,
        request_timeout_s: float = 30.0,
    ) -> None:
        self.namespace = namespace
        self._apps = client.AppsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._api_client = api_client
        self._server = server_of(api_client)
        self._clock = clock
        self._timeout = request_timeout_s

    def _request(self, verb: str, what: str) -> str:
        return f"{verb} {what} in namespace {self.namespace}"

    def restart_rollout(self, deployment: str) -> None:
        current = self.read_deployment(deployment)
        if (current.get("spec") or {}).get("paused"):
            raise KubernetesError(
                f"deployment {deployment} is paused: a restart would not roll out; "
                "resume it (kubectl rollout resume) or drop the action"
            )
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        self.patch_deployment(deployment, patch, "kubectl-rollout")

    def set_image(self, deployment: str, container: str, image: str) -> None:
        current = self.read_deployment(deployment)
        pod_spec = ((current.get("spec") or {}).get("template") or {}).get("spec") or {}
        names = [c.get("name") for c in pod_spec.get("containers") or []]
        if container not in names:
            raise KubernetesError(
                f"deployment {deployment} has no container {container!r} (it has: "
                f"{', '.join(map(str, names)) or 'none'}); fix the set_image action"
            )
        containers = [{"name": container, "image": image}]
        patch = {"spec": {"template": {"spec": {"containers": containers}}}}
        self.patch_deployment(deployment, patch, "kubectl-set")

    def scale(self, deployment: str, replicas: int) -> None:
        with api_call(self._request("PATCH", f"deployments/{deployment}/scale"), self._server):
            self._apps.patch_namespaced_deployment_scale(
                deployment,
                self.namespace,
                {"spec": {"replicas": replicas}},
                _request_timeout=self._timeout,
            )

    def delete_pod(self, pod: str, grace_period_s: int | None = None) -> None:
        with api_call(self._request("DELETE", f"pods/{pod}"), self._server):
            self._core.delete_namespaced_pod(
                pod,
                self.namespace,
                grace_period_seconds=grace_period_s,
                _request_timeout=self._timeout,
            )

    def pick_pod(self, selector: str) -> str:
        """The pod a ``delete_pod`` by selector takes: not terminating, ready first, then
        by name; ``KubernetesError`` if none matches."""
        listing = list_objects(
            PODS.list_call(self._api_client),
            Query(self.namespace, selector),
            plural="pods",
            server=self._server,
            timeout_s=self._timeout,
        )
        live = [pod_state(p) for p in listing.items if not pod_state(p).deleting]
        if not live:
            raise KubernetesError(
                f"no running pod matches {selector!r} in namespace {self.namespace}: "
                "nothing to delete; check the delete_pod selector"
            )
        return min(live, key=lambda p: (not p.ready, p.name)).name

    def read_deployment(self, deployment: str) -> RawObject:
        request = self._request("GET", f"deployments/{deployment}")
        with api_call(request, self._server):
            response = self._apps.read_namespaced_deployment(
                deployment, self.namespace, _preload_content=False, _request_timeout=self._timeout
            )
            return read_json(response, request)

    def list_replica_sets(self, selector: str) -> list[RawObject]:
        """The namespace's ReplicaSets matching a label selector."""
        listing = list_objects(
            REPLICASETS.list_call(self._api_client),
            Query(self.namespace, selector),
            plural=REPLICASETS.plural,
            server=self._server,
            timeout_s=self._timeout,
        )
        return listing.items

    def patch_deployment(
        self, deployment: str, patch: RawObject | list[RawObject], manager: str
    ) -> None:
        """A strategic merge patch (a dict), or a JSON patch (a list of operations)."""
        with api_call(self._request("PATCH", f"deployments/{deployment}"), self._server):
            self._apps.patch_namespaced_deployment(
                deployment,
                self.namespace,
                patch,
                field_manager=manager,
                _request_timeout=self._timeout,
            )


class HarnessEvents:
    """Harness events from any thread: one ``TableWriter``, flushed at every event (they
    are few, and a crash must not lose the one that ends a window)."""

    def __init__(self, run_dir: Path, clock: Clock, writer: str = EVENTS_WRITER) -> None:
        self._writer = TableWriter(run_dir, writer)
        self._lock = threading.Lock()
        self._clock = clock

    def emit(self, kind: EventKind, name: str, message: str = "") -> int:
        """Record one event now; returns its ``t_ms``."""
        t_ms = int(self._clock() * 1000)
        row = EventRow(t_ms, EventSource.HARNESS, kind, name, _clip(message))
        with self._lock:
            self._writer.append(Table.EVENTS, [row])
            self._writer.flush()
        return t_ms


def _clip(text: str) -> str:
    """An event message as the ``events`` table keeps it: one line, ``ERROR_TEXT_MAX``."""
    return shorten(text, ERROR_TEXT_MAX)


def action_label(action: ActionSpec) -> str:
    """How events name an action: ``rollout_restart deployment/order``."""
    if isinstance(action, DeletePodAction):
        target = f"pod/{action.pod}" if action.pod else (action.selector or "")
        return f"{action.kind} {target}"
    return f"{action.kind} deployment/{action.deployment}"


@dataclass(frozen=True)
class ActionOutcome:
    """How one action ended: ``status`` is ``ok``, ``timeout``, ``stopped`` or ``error``."""

    label: str
    status: str
    message: str
    started_ms: int
    ended_ms: int


def run_action(
    action: ActionSpec,
    actor: Actor,
    waiter: RolloutWaiter,
    events: HarnessEvents,
    monotonic: Callable[[], float] = time.monotonic,
) -> ActionOutcome:
    """Perform ``action`` (and wait for its rollout), emitting the harness events."""
    label, detail = action_label(action), action.id or ""
    try:
        pod = _target_pod(action, actor)
    except KubernetesError as e:
        return _failed(
            events, label, events.emit(EventKind.ACTION_START, label, detail), e, "error"
        )
    if pod is not None and isinstance(action, DeletePodAction):
        label = f"{action.kind} pod/{pod}"
        detail = detail or (f"selector {action.selector}" if action.selector else "")
    started_ms = events.emit(EventKind.ACTION_START, label, detail)
    try:
        _perform(action, actor, waiter, events, label, pod, monotonic)
    except RolloutTimeout as e:
        return _failed(events, label, started_ms, e, "timeout")
    except RolloutStopped as e:
        logger.info("action %s: %s", label, e)
        return _ended(events, label, started_ms, "stopped", "stopped")
    except KubernetesError as e:
        return _failed(events, label, started_ms, e, "error")
    return _ended(events, label, started_ms, "ok", "ok")


def _target_pod(action: ActionSpec, actor: Actor) -> str | None:
    """The pod a ``delete_pod`` deletes (chosen now when given by selector)."""
    if not isinstance(action, DeletePodAction):
        return None
    return action.pod or actor.pick_pod(action.selector or "")


def _perform(
    action: ActionSpec,
    actor: Actor,
    waiter: RolloutWaiter,
    events: HarnessEvents,
    label: str,
    pod: str | None,
    monotonic: Callable[[], float],
) -> None:
    if isinstance(action, ScaleAction):
        actor.scale(action.deployment, action.replicas)
    elif isinstance(action, DeletePodAction):
        actor.delete_pod(pod or "", action.grace_period)
    else:
        deadline = monotonic() + action.timeout
        if isinstance(action, RolloutRestartAction):
            actor.restart_rollout(action.deployment)
        elif isinstance(action, SetImageAction):
            actor.set_image(action.deployment, action.container, action.image)
        complete = waiter.wait_complete(action.deployment, deadline)
        events.emit(EventKind.ROLLOUT_COMPLETE, label, _revision_of(complete))
        waiter.wait_settled(complete, deadline)
        events.emit(EventKind.ROLLOUT_SETTLED, label)


def _revision_of(deployment: RawObject) -> str:
    return f"revision {revision_of(deployment) or '?'}"


def revision_of(deployment: RawObject) -> str | None:
    """The Deployment's ``deployment.kubernetes.io/revision``, None before its first."""
    annotations = (deployment.get("metadata") or {}).get("annotations") or {}
    revision = annotations.get(REVISION_ANNOTATION)
    return None if revision is None else str(revision)


@dataclass(frozen=True)
class RollbackTarget:
    """A Deployment to undo if the run fails: back to ``revision``, the one it had before
    ``action`` (a label) began, waiting up to ``timeout_s``."""

    deployment: str
    revision: str
    timeout_s: float
    action: str


def _failed(
    events: HarnessEvents, label: str, started_ms: int, error: Exception, status: str
) -> ActionOutcome:
    logger.warning("action %s failed: %s", label, error)
    events.emit(EventKind.ACTION_FAILED, label, str(error))
    message = "timeout" if status == "timeout" else str(error)
    return _ended(events, label, started_ms, status, message)


def _ended(
    events: HarnessEvents, label: str, started_ms: int, status: str, message: str
) -> ActionOutcome:
    ended_ms = events.emit(EventKind.ACTION_END, label, message)
    return ActionOutcome(label, status, _clip(message), started_ms, ended_ms)


@dataclass(frozen=True)
class ActionSettings:
    """``request_timeout_s``: each API request. ``stop_timeout_s``: how long ``stop``
    waits for running actions to notice."""

    request_timeout_s: float = 30.0
    stop_timeout_s: float = 5.0


class ActionRunner:
    """Runs ``actions`` at ``load_start + at`` (epoch seconds from ``clock``).

    Threads: ``kube-actions`` sleeps until each action is due and starts it in its own
    ``kube-action-<n>`` thread. ``stop()`` skips actions not yet due and interrupts
    rollout waits (their ``action_end`` says ``stopped``).
    """

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        actions: Sequence[ActionSpec],
        run_dir: Path,
        clock: Clock = time.time,
        *,
        settings: ActionSettings | None = None,
    ) -> None:
        self.settings = settings or ActionSettings()
        self._actions = sorted(actions, key=lambda a: a.at)
        self._clock = clock
        self._stop = StopSignal()
        timeout = self.settings.request_timeout_s
        self._actor = Actor(api_client, namespace, clock, request_timeout_s=timeout)
        self._waiter = RolloutWaiter(api_client, namespace, self._stop, request_timeout_s=timeout)
        self._events = HarnessEvents(run_dir, clock)
        self._workers: list[threading.Thread] = []
        self._outcomes: list[ActionOutcome] = []
        self._rollbacks: dict[str, RollbackTarget] = {}
        self._lock = threading.Lock()
        self._scheduler: threading.Thread | None = None

    def start(self, load_start_s: float) -> ActionRunner:
        """Schedule every action relative to ``load_start_s`` (epoch seconds)."""
        self._scheduler = threading.Thread(
            target=self._schedule, args=(load_start_s,), name="kube-actions", daemon=True
        )
        self._scheduler.start()
        return self

    def _schedule(self, load_start_s: float) -> None:
        for number, action in enumerate(self._actions):
            if self._stop.wait(max(0.0, load_start_s + action.at - self._clock())):
                return
            worker = threading.Thread(
                target=self._run, args=(action,), name=f"kube-action-{number}", daemon=True
            )
            with self._lock:
                self._workers.append(worker)
            worker.start()

    def _run(self, action: ActionSpec) -> None:
        if isinstance(action, RolloutRestartAction | SetImageAction) and action.rolls_back:
            self._remember(action)
        try:
            outcome = run_action(action, self._actor, self._waiter, self._events)
        except Exception as e:  # a bug or a disk error: log it, end the action anyway
            logger.exception("action %s crashed", action_label(action))
            outcome = self._crashed(action, e)
        with self._lock:
            self._outcomes.append(outcome)

    def _remember(self, action: RolloutRestartAction | SetImageAction) -> None:
        """The revision to undo to, read before the action changes the Deployment."""
        with self._lock:
            if action.deployment in self._rollbacks:
                return
        try:
            revision = revision_of(self._actor.read_deployment(action.deployment))
        except KubernetesError as e:  # the action itself fails the same way and says so
            logger.warning("action %s: no revision to roll back to: %s", action_label(action), e)
            return
        if revision is not None:
            label = action_label(action)
            target = RollbackTarget(action.deployment, revision, action.timeout, label)
            with self._lock:
                self._rollbacks.setdefault(action.deployment, target)

    @property
    def rollback_targets(self) -> list[RollbackTarget]:
        """What to undo if the run fails, in the order the actions began."""
        with self._lock:
            return list(self._rollbacks.values())

    def _crashed(self, action: ActionSpec, error: Exception) -> ActionOutcome:
        label, message = action_label(action), f"internal error: {error!r}"
        now_ms = int(self._clock() * 1000)
        try:
            now_ms = self._events.emit(EventKind.ACTION_END, label, message)
        except Exception:  # e.g. the disk error that crashed the action: the outcome stands
            logger.exception("action %s: its action_end cannot be recorded", label)
        return ActionOutcome(label, "error", _clip(message), now_ms, now_ms)

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait until every action has been started and has ended; False on timeout."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if self._scheduler is not None:
            self._scheduler.join(_left(deadline))
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(_left(deadline))
        scheduler = [self._scheduler] if self._scheduler is not None else []
        return not any(thread.is_alive() for thread in [*scheduler, *workers])

    def stop(self) -> bool:
        """Skip what is not due, interrupt waits, join; False if a thread hung."""
        self._stop.set()
        return self.join(self.settings.stop_timeout_s)

    @property
    def outcomes(self) -> list[ActionOutcome]:
        """Outcomes of the actions that ended, in the order they ended."""
        with self._lock:
            return list(self._outcomes)

    @property
    def pending(self) -> int:
        """Actions not yet ended (not started, or running)."""
        return len(self._actions) - len(self.outcomes)


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())
