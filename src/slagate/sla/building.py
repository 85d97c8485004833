"""Building verdicts: what every evaluator fills the same way, client-side or cluster.

Pure: no clients, no clock, no I/O. The threshold and its unit come from the SLA spec
itself (``spec.threshold``), so one builder serves every kind. Three outcomes:

- ``judged``: pass or fail on a measured value;
- ``never_happened``: fail, nothing measured: the event a "time until" SLA waits for did
  not happen in the window (``Verdict.never``);
- ``no_data``, ``window_never_began``: nothing to judge (never a pass): a window that never
  began, or one without the rows an SLA judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slagate.scenario import WindowRef
from slagate.sla.verdict import Evidence, Status, Verdict, Window
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
    *,
    never: bool = False,
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
        never=never,
    )


def judged(
    spec: JudgedSla,
    ok: bool,
    measured: float,
    window: Window,
    message: str,
    evidence: Sequence[Evidence] = (),
) -> Verdict:
    """A pass or fail verdict judged in ``window`` (evidence is for failures only)."""
    status = Status.PASS if ok else Status.FAIL
    return verdict(spec, status, measured, window.label, message, evidence)


def never_happened(
    spec: JudgedSla, window: Window, message: str, evidence: Sequence[Evidence] = ()
) -> Verdict:
    """A failure of a "time until" SLA whose event did not happen in ``window``: judged,
    with nothing measured (``Verdict.never``). ``message`` says what was awaited, for how
    long, and how far it got."""
    return verdict(spec, Status.FAIL, None, window.label, message, evidence, never=True)


def no_data(spec: JudgedSla, window: Window, what: str, detail: str = "") -> Verdict:
    """No-data: ``what`` (e.g. "no replicas recorded for Deployment order") in ``window``;
    ``detail`` follows after a semicolon (e.g. the endpoints that were recorded)."""
    message = f"no data: {what} in {window.label}" + (f"; {detail}" if detail else "")
    return verdict(spec, Status.NO_DATA, None, window.label, message)


def window_never_began(spec: JudgedSla) -> Verdict:
    """No-data: the SLA's window has no start in the timeline."""
    name = spec.window_label
    message = f"no data: the {name} window never began ({never_began(spec.window)})"
    return verdict(spec, Status.NO_DATA, None, f"{name} (never began)", message)
