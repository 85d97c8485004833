"""The bounds of numbers people type, held alike by every reader of them, and the click type
for a number of seconds.

A bottom layer (beside ``errors`` and ``files``): the scenario reader, the sandbox's
manifests and settings, and the command lines of ``slagate sandbox`` and ``slagate shop``
all import it, while none of them may import another.
"""

from __future__ import annotations

import math

import click

INT32_MAX = 2**31 - 1
"""Kubernetes declares replicas, seconds and ports int32 (upstream ``math.MaxInt32``): a
larger number is refused where it is read, before anything acts on it (a controller set
out to start a billion pods)."""

MAX_DURATION_S = 24 * 3600.0
"""No duration, period, delay or grace period slagate reads is longer than a day: a larger
one (``1.0e+300``) is a typo, and would overflow the timers it becomes (or build a billion
ramp steps) mid-run."""


class Seconds(click.ParamType[float]):
    """A finite number of seconds, at least 0 (above 0 with ``positive``): ``nan`` and
    ``inf`` parse as floats, and click's ``FloatRange`` lets them through, but no deadline
    can be computed from them."""

    name = "seconds"

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        least = "above 0" if self.positive else "at least 0"
        if not math.isfinite(seconds) or seconds < 0 or (self.positive and seconds == 0):
            self.fail(f"{value!r}: expected a finite number of seconds, {least}", param, ctx)
        return seconds
