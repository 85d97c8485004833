"""Words, numbers and times as verdict messages and evidence lines print them.

Pure: no clock reads (times are formatted from the epoch values given), no I/O.
Measured values are rounded *down* with exact integer arithmetic, so a printed value never
crosses its threshold: 99.8996 % prints as 99.899 %, never as a misleading 99.9 %.
Durations (``seconds``) print to the millisecond where one decimal would hide which side
of the threshold they are on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from slagate.sla.verdict import Evidence

EVIDENCE_LINES = 20
"""At most this many evidence lines of one kind per verdict, then "... N more"."""


def count(n: int) -> str:
    """``5012`` -> ``"5,012"``."""
    return f"{n:,}"


def versus(ok: bool, *, at_least: bool = False) -> str:
    """How a message compares the measured value with its threshold: ``<=`` or ``>`` for
    a maximum, ``>=`` or ``<`` for a minimum (``at_least``), as the SLA was kept or not."""
    if at_least:
        return ">=" if ok else "<"
    return "<=" if ok else ">"


def plural(n: int, noun: str) -> str:
    """``1 span``, ``2 spans``, ``1,204 requests``."""
    return f"{count(n)} {noun}{'' if n == 1 else 's'}"


def number(x: float, places: int = 6) -> str:
    """``x`` with at most ``places`` decimals and no trailing zeros: ``99.90`` -> ``"99.9"``."""
    text = f"{x:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_or_dash(value: Any) -> str:
    """A nullable count or percentage of a table cell: ``3``, ``45.5``, ``-`` when null."""
    if value is None or pd.isna(value):
        return "-"
    return number(float(value))


def seconds(value: float, threshold: float | None = None) -> str:
    """``41.2 s``; to the millisecond when one decimal would hide which side of
    ``threshold`` the value is on (30.04 s never prints as "30.0 s > 30 s")."""
    text = f"{value:.1f}"
    if threshold is not None and _side(float(text), threshold) != _side(value, threshold):
        text = f"{value:.3f}"
    return f"{text} s"


def _side(value: float, threshold: float) -> int:
    return (value > threshold) - (value < threshold)


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


def printable(text: str) -> str:
    """``text`` safe to show in a terminal or a page: every control character (C0 but
    newline and tab, DEL, C1) and every bidirectional override is written as its escape
    (``\\x1b``, ``\\u202e``). Text from the target or the cluster can then neither colour
    nor move the cursor of a terminal, nor hide or reorder what a reader sees."""
    return text.translate(_ESCAPES)


def _escape_of(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CONTROLS = [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {code: _escape_of(code) for code in (*_CONTROLS, *_BIDI)}


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (ending in ``...`` when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def capped(lines: Sequence[Evidence], what: str, limit: int = EVIDENCE_LINES) -> list[Evidence]:
    """The first ``limit`` lines, then one saying how many more ``what`` were left out."""
    shown = list(lines[:limit])
    if len(lines) > limit:
        shown.append(left_out(lines[limit].t_ms, len(lines) - limit, what))
    return shown


def left_out(t_ms: int, rest: int, what: str) -> Evidence:
    """The line saying ``rest`` more ``what`` are not listed, at the first of them."""
    return Evidence(t_ms, f"... {count(rest)} more {what} not listed")
