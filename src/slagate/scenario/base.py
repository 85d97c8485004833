"""Durations and the base model every scenario part shares."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
)

from slagate.numbers import MAX_DURATION_S

HARD_MAX_USERS = 100_000
BUILTIN_WINDOWS = ("run", "load", "steady", "cooldown", "rollout")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as ``"90s"``, ``"2m"``, ``"500ms"``.

    At most ``MAX_DURATION_S`` (24 h): every duration becomes a wait, a timeout or a
    number of ramp steps, and a typo such as ``cooldown: 1.0e+300`` would otherwise pass
    validation, then overflow the OS timers (or build a billion ramp stages) mid-run."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"expected a duration such as 30s, 2m or 500ms, got {value!r}")
    if seconds < 0 or math.isinf(seconds) or math.isnan(seconds):
        raise ValueError(f"a duration must be a finite number >= 0, got {value!r}")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"a duration must be at most {MAX_DURATION_S:g} s (24h), got {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    """Unknown fields are refused (a typo is named, not ignored), and so are ``.inf`` and
    ``.nan``: no threshold is met by NaN, and run.json (JSON) cannot hold either, so a
    scenario that allowed them would run and then leave a folder no one can read back."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
