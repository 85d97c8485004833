"""Status conditions, and the two ways upstream controllers update a list of them.

Pure: no clock reads; the caller passes ``now_s`` (seconds, any epoch, usually Unix time).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Condition:
    """One ``status.conditions[]`` entry.

    ``status`` True/False serialises as ``"True"``/``"False"`` (these controllers never set
    ``"Unknown"``). ``last_update_s`` is only used by Deployment conditions (lastUpdateTime);
    HPA conditions leave it None.
    """

    type: str
    status: bool
    reason: str
    message: str
    last_transition_s: float = 0.0
    last_update_s: float | None = None


def find_condition(conditions: tuple[Condition, ...], type_: str) -> Condition | None:
    """The condition of ``type_``, or None."""
    return next((c for c in conditions if c.type == type_), None)


def set_hpa_condition(
    conditions: tuple[Condition, ...], new: Condition, now_s: float
) -> tuple[Condition, ...]:
    """Set a condition the way the HPA controller does (``setConditionInList``).

    Updated in place (list order kept): reason and message always replaced, the transition
    time only moves when the status flips, so dashboards see how long a state has held.
    """
    old = find_condition(conditions, new.type)
    if old is None:
        return (*conditions, replace(new, last_transition_s=now_s))
    moved = now_s if old.status != new.status else old.last_transition_s
    updated = replace(new, last_transition_s=moved)
    return tuple(updated if c.type == new.type else c for c in conditions)


def set_deployment_condition(
    conditions: tuple[Condition, ...], new: Condition
) -> tuple[Condition, ...]:
    """Set a condition the way the Deployment controller does (``SetDeploymentCondition``).

    ``new`` carries its own times (``now`` for both, as ``NewDeploymentCondition`` does).
    Same status and reason: nothing changes, not even lastUpdateTime. Same status, new
    reason: the transition time is kept. The updated condition moves to the end.
    """
    old = find_condition(conditions, new.type)
    if old is not None and old.status == new.status and old.reason == new.reason:
        return conditions
    if old is not None and old.status == new.status:
        new = replace(new, last_transition_s=old.last_transition_s)
    return (*remove_condition(conditions, new.type), new)


def remove_condition(conditions: tuple[Condition, ...], type_: str) -> tuple[Condition, ...]:
    """``conditions`` without the one of ``type_``."""
    return tuple(c for c in conditions if c.type != type_)
