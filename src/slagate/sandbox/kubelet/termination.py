"""When a deleted pod's container gets SIGTERM and SIGKILL (upstream kubelet killContainer).

Pure: times are float seconds. Upstream runs the preStop hook for at most the grace
period, subtracts the whole seconds it took, then stops the container with what is left,
but never less than 2 s: that floor is the one-time extension a preStop hook that overruns
the grace period gets. The network side of deletion (endpoints turning not ready) runs in
parallel and is not modelled here.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_GRACE_S = 30
MINIMUM_GRACE_S = 2


@dataclass(frozen=True)
class TerminationPlan:
    """The shutdown timeline of one container, in seconds.

    ``pre_stop_end_s`` is None when no preStop hook runs (none set, or grace 0).
    """

    deleted_s: float
    pre_stop_end_s: float | None
    sigterm_s: float
    sigkill_s: float


def plan_termination(
    deleted_s: float, grace_s: int = DEFAULT_GRACE_S, pre_stop_s: float | None = None
) -> TerminationPlan:
    """The timeline after deletion at ``deleted_s`` with ``terminationGracePeriodSeconds``
    ``grace_s`` and a preStop hook taking ``pre_stop_s`` seconds (e.g. a sleep).

    Examples: grace 30, preStop 10 -> SIGTERM at +10, SIGKILL at +30; preStop 40 ->
    SIGTERM at +30, SIGKILL at +32; preStop 5.5 -> SIGTERM at +5.5 and, as the kubelet
    subtracts whole seconds, SIGKILL at +30.5.
    """
    if pre_stop_s is None or grace_s <= 0:
        remaining = max(grace_s, MINIMUM_GRACE_S)
        return TerminationPlan(deleted_s, None, deleted_s, deleted_s + remaining)
    ran_s = min(pre_stop_s, float(grace_s))
    remaining = max(grace_s - int(ran_s), MINIMUM_GRACE_S)
    sigterm_s = deleted_s + ran_s
    return TerminationPlan(deleted_s, sigterm_s, sigterm_s, sigterm_s + remaining)


def exit_at(plan: TerminationPlan, drain_s: float | None) -> float:
    """When the process ends: ``drain_s`` after SIGTERM if it exits by itself in time,
    else at SIGKILL. ``drain_s`` None: it ignores SIGTERM."""
    if drain_s is None:
        return plan.sigkill_s
    return min(plan.sigterm_s + drain_s, plan.sigkill_s)


def killed(plan: TerminationPlan, drain_s: float | None) -> bool:
    """Whether the process is SIGKILLed rather than exiting after SIGTERM."""
    return drain_s is None or plan.sigterm_s + drain_s >= plan.sigkill_s
