"""maxSurge and maxUnavailable: from ``int | "N%"`` to pod counts, as upstream resolves them.

Surge rounds up and unavailability rounds down, so a percentage never allows fewer new pods
or more missing pods than it says; if both come to zero, unavailability becomes 1, or a
rollout could never move (upstream ``ResolveFenceposts``). Pure functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from slagate.errors import ConfigError

IntOrPercent = int | str
DEFAULT_MAX_SURGE: IntOrPercent = "25%"
DEFAULT_MAX_UNAVAILABLE: IntOrPercent = "25%"


@dataclass(frozen=True)
class Fenceposts:
    """How far a rolling update may go above (``surge``) and below (``unavailable``) the
    desired count, in pods."""

    surge: int
    unavailable: int


def scaled_value(value: IntOrPercent, total: int, round_up: bool) -> int:
    """``value`` as a count of ``total`` pods (upstream GetScaledValueFromIntOrPercent).

    Percentages use float64 ``ceil``/``floor`` of ``pct * total / 100``, as Go does.
    Raises ConfigError for a string that is not ``"<int>%"``.
    """
    if isinstance(value, int):
        return value
    if not value.endswith("%") or not value[:-1].strip().lstrip("-").isdigit():
        raise ConfigError(
            f"invalid maxSurge/maxUnavailable {value!r}: use an integer or a percentage "
            'such as "25%"'
        )
    scaled = int(value[:-1]) * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def resolve_fenceposts(
    max_surge: IntOrPercent, max_unavailable: IntOrPercent, replicas: int
) -> Fenceposts:
    """Surge (rounded up) and unavailable (rounded down) for ``replicas`` desired pods."""
    surge = scaled_value(max_surge, replicas, round_up=True)
    unavailable = scaled_value(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return Fenceposts(surge, unavailable)


def max_unavailable(max_surge: IntOrPercent, max_unav: IntOrPercent, replicas: int) -> int:
    """Unavailable pods a rolling update tolerates (upstream ``MaxUnavailable``).

    0 for a Deployment scaled to zero, and never more than ``replicas``.
    """
    if replicas == 0:
        return 0
    return min(resolve_fenceposts(max_surge, max_unav, replicas).unavailable, replicas)
