"""Numbers and times as verdict messages print them.

Pure: no clock reads (times are formatted from the epoch values given), no I/O.
Measured values are rounded *down* with exact integer arithmetic, so a printed value never
crosses its threshold: 99.8996 % prints as 99.899 %, never as a misleading 99.9 %.
"""

from __future__ import annotations

from datetime import UTC, datetime


def count(n: int) -> str:
    """``5012`` -> ``"5,012"``."""
    return f"{n:,}"


def number(x: float, places: int = 6) -> str:
    """``x`` with at most ``places`` decimals and no trailing zeros: ``99.90`` -> ``"99.9"``."""
    text = f"{x:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def places_of(x: float, at_least: int) -> int:
    """Decimals needed to print ``x`` exactly (up to 6), but at least ``at_least``."""
    return max(at_least, len(number(x).partition(".")[2]))


def floor_ratio(numerator: int, denominator: int, places: int) -> float:
    """``numerator / denominator`` rounded down to ``places`` decimals, exactly.

    Integer arithmetic: ``math.floor(x * 1000)`` would turn 99.9 into 99.899.
    """
    scale = int(10**places)
    return (numerator * scale // denominator) / scale


def clock(t_ms: int, *, ms: bool = True) -> str:
    """UTC time of day of an epoch millisecond: ``"12:00:03.120"`` (or ``"12:00:03"``)."""
    moment = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
    text = moment.strftime("%H:%M:%S")
    return f"{text}.{t_ms % 1000:03d}" if ms else text


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (ending in ``...`` when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
