"""A pod's ``status`` as the kubelet writes it: phase, conditions, container statuses.

Pure: the kubelet hands in what it knows of each container (``ContainerView``) and the
stored status, and gets the status to store. Transition times only move when a condition
flips, so rendering the same facts twice gives the same body and the store records no
write (no status churn). Upstream sources: ``kubelet_pods.go`` ``getPhase`` and
``status/generate.go``.

Conditions the kubelet does not own (``KUBELET_CONDITIONS``), patched in by others through
``pods/status`` (a load balancer controller's readiness gate, say), are kept as they are,
ahead of the kubelet's own, as upstream's status manager merges them. Ready is True only
when the containers are ready and every ``spec.readinessGates`` condition is True
(upstream ``GeneratePodReadyCondition``); ContainersReady ignores the gates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.kubelet.specs import RestartPolicy
from slagate.sandbox.objects.bodies import rfc3339


@dataclass(frozen=True)
class Waiting:
    reason: str
    message: str = ""


@dataclass(frozen=True)
class Running:
    started_s: float


@dataclass(frozen=True)
class Terminated:
    """An exit: ``exit_code`` as a container runtime reports it (128 + signal if killed)."""

    exit_code: int
    reason: str
    finished_s: float
    started_s: float | None = None
    container_id: str = ""
    message: str = ""


ContainerState = Waiting | Running | Terminated


@dataclass(frozen=True)
class ContainerView:
    """What the kubelet knows of one container right now."""

    name: str
    image: str
    state: ContainerState
    last_state: Terminated | None = None
    ready: bool = False
    started: bool = False
    restart_count: int = 0
    container_id: str = ""
    sidecar: bool = False
    """A native sidecar (an init container with ``restartPolicy: Always``)."""


@dataclass(frozen=True)
class PodView:
    """What the kubelet knows of one pod. ``terminal``: it is done with the pod (deleted
    or shut down, every container stopped), so nothing will restart.

    ``init_containers`` in order; ``incomplete_inits`` names those initialization still
    waits for (empty once the app containers started); ``init_failed``: a regular init
    container failed under ``restartPolicy: Never`` (``initializing``)."""

    containers: tuple[ContainerView, ...]
    restart_policy: RestartPolicy
    pod_ip: str | None
    host_ip: str
    start_s: float
    terminal: bool = False
    readiness_gates: tuple[str, ...] = ()
    unschedulable: str | None = None
    """Not bound to a node, none having room: the scheduler's ``FailedScheduling``
    message."""
    init_containers: tuple[ContainerView, ...] = ()
    incomplete_inits: tuple[str, ...] = ()
    init_failed: bool = False


def pod_phase(pod: PodView) -> PodPhase:
    """Upstream ``getPhase``: a failed init container under ``Never`` fails the pod;
    otherwise the app containers decide (they wait while the pod initializes)."""
    if pod.init_failed:
        return PodPhase.FAILED
    running = waiting = stopped = succeeded = 0
    for container in pod.containers:
        state = container.state
        if isinstance(state, Running):
            running += 1
        elif isinstance(state, Terminated):
            stopped += 1
            succeeded += state.exit_code == 0
        elif container.last_state is not None:
            stopped += 1
        else:
            waiting += 1
    if waiting or not pod.containers:
        return PodPhase.PENDING
    if running:
        return PodPhase.RUNNING
    if pod.terminal:
        return PodPhase.SUCCEEDED if stopped == succeeded else PodPhase.FAILED
    if pod.restart_policy is RestartPolicy.ALWAYS:
        return PodPhase.RUNNING
    if stopped == succeeded:
        return PodPhase.SUCCEEDED
    if pod.restart_policy is RestartPolicy.NEVER:
        return PodPhase.FAILED
    return PodPhase.RUNNING


def render_status(pod: PodView, previous: Mapping[str, Any], now_s: float) -> dict[str, Any]:
    """The full status to store; ``previous`` is the stored one (for transition times)."""
    if pod.unschedulable is not None:
        return _unscheduled_status(pod.unschedulable, previous, now_s)
    phase = pod_phase(pod)
    status: dict[str, Any] = {
        "phase": phase.value,
        "conditions": _conditions(pod, phase, previous, now_s),
        "hostIP": pod.host_ip,
        "hostIPs": [{"ip": pod.host_ip}],
    }
    if pod.pod_ip:
        status["podIP"] = pod.pod_ip
        status["podIPs"] = [{"ip": pod.pod_ip}]
    status["startTime"] = timestamp(pod.start_s)
    if pod.init_containers:
        status["initContainerStatuses"] = [container_status(c) for c in pod.init_containers]
    status["containerStatuses"] = [container_status(c) for c in pod.containers]
    return status


def _unscheduled_status(message: str, previous: Mapping[str, Any], now_s: float) -> dict[str, Any]:
    """A pod no node has room for, as the scheduler leaves it: Pending, ``PodScheduled``
    False beside the conditions others patched in (a readiness gate's, say)."""
    stored = _previous_conditions(previous)
    foreign = [c for type_, c in stored.items() if type_ not in KUBELET_CONDITIONS]
    before = stored.get("PodScheduled")
    scheduled = _condition("PodScheduled", False, "Unschedulable", message, before, now_s)
    return {"phase": PodPhase.PENDING.value, "conditions": [*foreign, scheduled]}


def container_status(container: ContainerView) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": container.name,
        "image": container.image,
        "imageID": container.image,
        "ready": container.ready,
        "started": container.started,
        "restartCount": container.restart_count,
        "state": _state(container.state, container.container_id),
        "lastState": _state(container.last_state) if container.last_state else {},
    }
    if container.container_id:
        status["containerID"] = container.container_id
    return status


def timestamp(at_s: float) -> str:
    return rfc3339(datetime.fromtimestamp(at_s, UTC))


def _state(state: ContainerState, container_id: str = "") -> dict[str, Any]:
    if isinstance(state, Waiting):
        waiting = {"reason": state.reason}
        if state.message:
            waiting["message"] = state.message
        return {"waiting": waiting}
    if isinstance(state, Running):
        return {"running": {"startedAt": timestamp(state.started_s)}}
    terminated: dict[str, Any] = {"exitCode": state.exit_code, "reason": state.reason}
    if state.message:
        terminated["message"] = state.message
    if state.started_s is not None:
        terminated["startedAt"] = timestamp(state.started_s)
    terminated["finishedAt"] = timestamp(state.finished_s)
    if state.container_id or container_id:
        terminated["containerID"] = state.container_id or container_id
    return {"terminated": terminated}


KUBELET_CONDITIONS = frozenset({"Initialized", "Ready", "ContainersReady", "PodScheduled"})
"""The condition types the sandbox's kubelet (and scheduler) write; every other type in
``status.conditions`` belongs to whoever patched it in."""

READINESS_GATES_NOT_READY = "ReadinessGatesNotReady"


def _conditions(
    pod: PodView, phase: PodPhase, previous: Mapping[str, Any], now_s: float
) -> list[dict[str, Any]]:
    sidecars = [c for c in pod.init_containers if c.sidecar]
    unready = [c.name for c in (*sidecars, *pod.containers) if not c.ready]
    if phase is PodPhase.SUCCEEDED:
        containers_ready = (False, "PodCompleted", "")
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        containers_ready = (False, "ContainersNotReady", message)
    else:
        containers_ready = (True, "", "")
    initialized = (True, "", "")
    if pod.incomplete_inits:
        waiting_for = " ".join(pod.incomplete_inits)
        message = f"containers with incomplete status: [{waiting_for}]"
        initialized = (False, "ContainersNotInitialized", message)
    stored = [c for c in previous.get("conditions") or [] if isinstance(c, dict)]
    foreign = [c for c in stored if c.get("type") not in KUBELET_CONDITIONS]
    ready = containers_ready if not containers_ready[0] else _gates(pod.readiness_gates, foreign)
    wanted = [
        ("Initialized", initialized),
        ("Ready", ready),
        ("ContainersReady", containers_ready),
        ("PodScheduled", (True, "", "")),
    ]
    before = {str(c.get("type")): c for c in stored}
    own = [_condition(type_, *facts, before.get(type_), now_s) for type_, facts in wanted]
    return [*foreign, *own]


def _gates(gates: tuple[str, ...], foreign: list[dict[str, Any]]) -> tuple[bool, str, str]:
    """Ready's facts once the containers are ready: True when every gate's condition is
    True, else False with upstream's reason and one message per unmet gate."""
    status = {str(c.get("type")): c.get("status") for c in foreign}
    unmet = []
    for gate in gates:
        if gate not in status:
            unmet.append(f'corresponding condition of pod readiness gate "{gate}" does not exist.')
        elif status[gate] != "True":
            unmet.append(
                f'the status of pod readiness gate "{gate}" is not "True", but {status[gate]}'
            )
    if unmet:
        return (False, READINESS_GATES_NOT_READY, ", ".join(unmet))
    return (True, "", "")


def _previous_conditions(previous: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    conditions = previous.get("conditions") or []
    return {str(c.get("type")): c for c in conditions if isinstance(c, dict)}


def _condition(
    type_: str,
    status: bool,
    reason: str,
    message: str,
    previous: Mapping[str, Any] | None,
    now_s: float,
) -> dict[str, Any]:
    text = "True" if status else "False"
    unchanged = previous is not None and previous.get("status") == text
    since = previous.get("lastTransitionTime") if unchanged and previous is not None else None
    condition: dict[str, Any] = {
        "type": type_,
        "status": text,
        "lastProbeTime": None,
        "lastTransitionTime": since or timestamp(now_s),
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition
