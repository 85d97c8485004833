"""Verdicts: what judging one SLA over a window of the timeline concluded."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

NEVER = "never"
"""How views show the measured value of a verdict whose awaited event never happened."""


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no-data"  # never a pass: the gate fails on it


@dataclass(frozen=True)
class Window:
    """A named span of the run in epoch milliseconds, ``end_ms`` exclusive.

    ``origin_ms`` (load start, when known) is what ``label`` measures offsets from.
    """

    name: str
    start_ms: int
    end_ms: int
    origin_ms: int | None = None

    def contains_s(self, t_s: int) -> bool:
        """Whether the per-second bucket ``t_s`` (requests ending in that second) is inside."""
        return self.start_ms <= t_s * 1000 < self.end_ms

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0

    def describe(self, origin_ms: int | None) -> str:
        """``load [0.0 s, 30.0 s]`` relative to ``origin_ms`` (load start) when given."""
        if origin_ms is None:
            return self.name
        a = (self.start_ms - origin_ms) / 1000.0
        b = (self.end_ms - origin_ms) / 1000.0
        return f"{self.name} [{a:.1f} s, {b:.1f} s]"

    @property
    def label(self) -> str:
        """How verdicts name this window: ``describe`` from the window's own origin."""
        return self.describe(self.origin_ms)


@dataclass(frozen=True)
class Evidence:
    """One fact behind a verdict, e.g. a failed request: when (epoch ms) and what."""

    t_ms: int
    text: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of one SLA: ``measured`` judged against ``threshold`` in ``window``.

    ``measured`` is None when nothing was measured, for one of two reasons that views keep
    apart:

    - no data (status ``no-data``): nothing to judge, e.g. no request in the window. Never
      a pass. ``measured_text`` is ``-``.
    - never (``never`` set, status ``fail``): a "time until" SLA (scale out, scale in,
      rollout duration) was judged and the event it waits for did not happen in the window,
      so there is no time to report. ``measured_text`` is ``never``; the message says how
      long the window was watched.
    """

    id: str
    kind: str
    status: Status
    measured: float | None
    threshold: float
    window: str
    message: str
    unit: str = ""
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    never: bool = False
    optional: bool = False
    """The SLA said ``optional: true``: its no-data does not fail the gate (a failure does)."""

    def __post_init__(self) -> None:
        if self.never and (self.status is not Status.FAIL or self.measured is not None):
            raise ValueError(
                f"verdict {self.id}: an event that never happened is a failure with no "
                f"measured value, not {self.status.value} measured {self.measured!r}"
            )

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    @property
    def fails_the_gate(self) -> bool:
        """A failure, or no data where data was required (no data is never a pass)."""
        if self.status is Status.FAIL:
            return True
        return self.status is Status.NO_DATA and not self.optional

    @property
    def measured_text(self) -> str:
        """The measured value as every view prints it: ``never`` when the awaited event
        did not happen, ``-`` without data."""
        return NEVER if self.never else value_text(self.measured, self.unit)

    @property
    def threshold_text(self) -> str:
        return value_text(self.threshold, self.unit)

    def to_json(self) -> dict[str, Any]:
        """The ``summary.json`` form of this verdict. A verdict whose awaited event never
        happened adds ``"never": true`` (with ``"measured": null``), an optional SLA's
        ``"optional": true``; the keys are absent otherwise, so summaries written before
        they existed read the same way."""
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "status": self.status.value,
            "measured": self.measured,
            "threshold": self.threshold,
            "unit": self.unit,
            "window": self.window,
            "message": self.message,
            "evidence": [{"t_ms": e.t_ms, "text": e.text} for e in self.evidence],
        }
        flags = {"never": True} if self.never else {}
        flags |= {"optional": True} if self.optional else {}
        return {**data, **flags}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        return cls(
            id=data["id"],
            kind=data["kind"],
            status=Status(data["status"]),
            measured=data["measured"],
            threshold=data["threshold"],
            window=data["window"],
            message=data["message"],
            unit=data.get("unit", ""),
            evidence=tuple(Evidence(e["t_ms"], e["text"]) for e in data.get("evidence", [])),
            never=bool(data.get("never", False)),
            optional=bool(data.get("optional", False)),
        )


def value_text(value: float | None, unit: str) -> str:
    """``1,204.5 ms``: thousands separated, at most 3 decimals, no trailing zeros; ``-``
    for no value. The one formatting of verdict values (terminal, report, pytest)."""
    if value is None:
        return "-"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()
