"""Building verdicts: what every evaluator fills the same way, client-side or cluster.

Pure: no clients, no clock, no I/O. The threshold and its unit come from the SLA spec
itself (``spec.threshold``), so one builder serves every kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slagate.scenario import WindowRef
from slagate.sla.verdict import Evidence, Status, Verdict
from slagate.sla.windows import never_began


class JudgedSla(Protocol):
    """What a verdict needs from an SLA spec (every scenario SLA model has it)."""

    @property
    def sla_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def threshold(self) -> tuple[float, str]: ...

    @property
    def window(self) -> WindowRef: ...

    @property
    def window_label(self) -> str: ...


def verdict(
    spec: JudgedSla,
    status: Status,
    measured: float | None,
    window: str,
    message: str,
    evidence: Sequence[Evidence] = (),
) -> Verdict:
    """A verdict for ``spec`` with its threshold and unit filled in."""
    threshold, unit = spec.threshold
    return Verdict(
        id=spec.sla_id,
        kind=spec.kind,
        status=status,
        measured=measured,
        threshold=threshold,
        window=window,
        message=message,
        unit=unit,
        evidence=tuple(evidence),
    )


def status_of(ok: bool) -> Status:
    return Status.PASS if ok else Status.FAIL


def window_never_began(spec: JudgedSla) -> Verdict:
    """No-data: the SLA's window has no start in the timeline."""
    name = spec.window_label
    message = f"no data: the {name} window never began ({never_began(spec.window)})"
    return verdict(spec, Status.NO_DATA, None, f"{name} (never began)", message)
