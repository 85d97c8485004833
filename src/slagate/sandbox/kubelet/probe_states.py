"""The kubelet's probe worker as a pure state machine (upstream pkg/kubelet/prober/worker.go).

A probe's published result only changes after ``successThreshold`` consecutive successes
or ``failureThreshold`` consecutive failures; until then the previous result stands. That
is what makes a pod leave endpoints up to ``period * failureThreshold`` seconds after it
stops answering, which is exactly what a zero-downtime verdict has to account for.

Pure: times are float seconds passed in. Simplified timing: the first probe is due at
``container start + initialDelaySeconds`` and the next ones every ``periodSeconds`` after
the previous one. Upstream ticks from when the worker started (with a random offset right
after a kubelet restart) and triggers an extra readiness probe when the pod's status is
synced while it is unready, so real probe times shift by up to one period.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace


class ProbeKind(enum.Enum):
    READINESS = "readiness"
    LIVENESS = "liveness"
    STARTUP = "startup"


class ProbeResult(enum.Enum):
    """A published probe result; UNKNOWN only before a startup probe has decided."""

    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProbeSpec:
    """Probe timing fields, upstream defaults (seconds and counts).

    API validation requires ``success_threshold`` 1 for liveness and startup probes.
    """

    initial_delay_s: int = 0
    period_s: int = 10
    timeout_s: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3


@dataclass(frozen=True)
class ProbeState:
    """One probe worker's memory.

    ``result`` is what the kubelet publishes (Ready, restart decisions); ``last`` and
    ``run`` count consecutive equal raw outcomes; ``on_hold`` stops a failed liveness or
    startup probe until the container is replaced; ``last_probe_s`` is when it last ran.
    """

    kind: ProbeKind
    result: ProbeResult
    last: ProbeResult | None = None
    run: int = 0
    on_hold: bool = False
    last_probe_s: float | None = None


_INITIAL = {
    ProbeKind.READINESS: ProbeResult.FAILURE,
    ProbeKind.LIVENESS: ProbeResult.SUCCESS,
    ProbeKind.STARTUP: ProbeResult.UNKNOWN,
}


def initial_state(kind: ProbeKind) -> ProbeState:
    """A new container: not ready, presumed alive, not yet started."""
    return ProbeState(kind, _INITIAL[kind])


def http_success(status: int | None, elapsed_s: float, timeout_s: float) -> bool:
    """An HTTP probe outcome: a 200-399 answer within ``timeout_s``. ``status`` None means
    no answer at all (connection refused or reset)."""
    return status is not None and 200 <= status < 400 and elapsed_s <= timeout_s


def next_probe_at(spec: ProbeSpec, container_started_s: float, state: ProbeState) -> float:
    """When the probe is next due (seconds): ``initialDelaySeconds`` after the container
    started, then every ``periodSeconds`` after the last run."""
    if state.last_probe_s is None:
        return container_started_s + spec.initial_delay_s
    return state.last_probe_s + spec.period_s


def should_probe(state: ProbeState, started: bool, deleting: bool) -> bool:
    """Whether the worker runs the probe at a due time (upstream doProbe's guards).

    A failed liveness/startup probe waits for a new container; liveness and startup stop
    once the pod is being deleted, readiness keeps running; the startup probe stops once
    the container started, and the others wait for that.
    """
    if state.on_hold:
        return False
    if deleting and state.kind is not ProbeKind.READINESS:
        return False
    if state.kind is ProbeKind.STARTUP:
        return not started
    return started


def record(spec: ProbeSpec, state: ProbeState, success: bool, at_s: float) -> ProbeState:
    """Fold one probe outcome at ``at_s`` into the state.

    The published result changes only after ``success_threshold`` / ``failure_threshold``
    equal outcomes in a row. A published liveness failure puts the worker on hold (the
    container gets restarted); so does any published startup result, since a startup
    probe has nothing left to decide until the container is replaced (upstream #117153).
    Going on hold resets the run, as upstream does.
    """
    outcome = ProbeResult.SUCCESS if success else ProbeResult.FAILURE
    run = state.run + 1 if state.last is outcome else 1
    probed = replace(state, last=outcome, run=run, last_probe_s=at_s)
    threshold = spec.success_threshold if success else spec.failure_threshold
    if run < threshold:
        return probed
    if state.kind is ProbeKind.STARTUP or (state.kind is ProbeKind.LIVENESS and not success):
        return replace(probed, result=outcome, on_hold=True, run=0)
    return replace(probed, result=outcome)


def replay(
    spec: ProbeSpec, kind: ProbeKind, outcomes: Iterable[tuple[float, bool]]
) -> tuple[ProbeState, ...]:
    """The state after each ``(time_s, success)`` outcome, from a new container."""
    states: list[ProbeState] = []
    state = initial_state(kind)
    for at_s, success in outcomes:
        state = record(spec, state, success, at_s)
        states.append(state)
    return tuple(states)


def on_deletion(state: ProbeState) -> ProbeState:
    """Pod deletion: liveness and startup publish success and stop (no restart during
    shutdown); readiness is unchanged and keeps probing."""
    if state.kind is ProbeKind.READINESS:
        return state
    return replace(state, result=ProbeResult.SUCCESS, on_hold=True)


def on_container_restart(state: ProbeState) -> ProbeState:
    """A new container: back to the initial result, probing resumes.

    The consecutive-outcome counter is kept, as upstream keeps it across containers.
    """
    return replace(state, result=_INITIAL[state.kind], on_hold=False, last_probe_s=None)


def is_started(startup: ProbeState | None) -> bool:
    """Started: no startup probe, or it has succeeded."""
    return startup is None or startup.result is ProbeResult.SUCCESS


def is_ready(running: bool, startup: ProbeState | None, readiness: ProbeState | None) -> bool:
    """The container's Ready: running, started, and readiness succeeded (or no probe)."""
    ready = readiness is None or readiness.result is ProbeResult.SUCCESS
    return running and is_started(startup) and ready


def needs_restart(liveness: ProbeState | None, startup: ProbeState | None) -> bool:
    """A published liveness or startup failure: the kubelet kills and restarts it."""
    return any(s is not None and s.result is ProbeResult.FAILURE for s in (liveness, startup))


def probe_allowed_at(spec: ProbeSpec, container_started_s: float, now_s: float) -> bool:
    """Past initialDelaySeconds; upstream truncates the elapsed time to whole seconds."""
    return int(now_s - container_started_s) >= spec.initial_delay_s
