"""A pod's ``status`` as the kubelet writes it: phase, conditions, container statuses.

Pure: the kubelet hands in what it knows of each container (``ContainerView``) and the
stored status, and gets the status to store. Transition times only move when a condition
flips, so rendering the same facts twice gives the same body and the store records no
write (no status churn). Upstream sources: ``kubelet_pods.go`` ``getPhase`` and
``status/generate.go``.
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
    wanted = [
        ("Initialized", initialized),
        ("Ready", containers_ready),
        ("ContainersReady", containers_ready),
        ("PodScheduled", (True, "", "")),
    ]
    before = {
        str(c.get("type")): c for c in previous.get("conditions") or [] if isinstance(c, dict)
    }
    return [_condition(type_, *facts, before.get(type_), now_s) for type_, facts in wanted]


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
