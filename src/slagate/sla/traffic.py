"""What the client-side (traffic) evaluators share: their spec type and no-data verdicts.

Pure: builds verdicts from the values given; no clock reads, no logging, no I/O.
No data is never a pass: a window that never began, or one without a single request, is
``no-data`` (zero traffic proves nothing about availability, latency or throughput).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from slagate.scenario import AvailabilitySla, FailedRequestsSla, LatencySla, ThroughputSla
from slagate.sla.selecting import endpoint_mask, known_endpoints, scope_text
from slagate.sla.verdict import Evidence, Status, Verdict, Window, verdict_for
from slagate.sla.windows import never_began

ClientSla = AvailabilitySla | FailedRequestsSla | LatencySla | ThroughputSla


def status_of(ok: bool) -> Status:
    return Status.PASS if ok else Status.FAIL


def subject(spec: ClientSla, what: str) -> str:
    """``"availability"`` or, for one endpoint, ``"GET /orders availability"``."""
    return f"{spec.endpoint} {what}" if spec.endpoint else what


def verdict(
    spec: ClientSla,
    status: Status,
    measured: float | None,
    window: str,
    message: str,
    evidence: Sequence[Evidence] = (),
) -> Verdict:
    """A verdict for ``spec`` with its threshold and unit filled in."""
    return verdict_for(
        spec.sla_id,
        spec.kind,
        threshold_of(spec),
        status,
        measured,
        window,
        message,
        tuple(evidence),
    )


def threshold_of(spec: ClientSla) -> tuple[float, str]:
    """The threshold of ``spec`` and its unit."""
    if isinstance(spec, AvailabilitySla):
        return spec.min_percent, "%"
    if isinstance(spec, FailedRequestsSla):
        return float(spec.max), "requests"
    if isinstance(spec, LatencySla):
        return spec.max_ms, "ms"
    return spec.min_rps, "rps"


def window_never_began(spec: ClientSla) -> Verdict:
    """No-data: the SLA's window has no start in the timeline."""
    name = spec.window_label
    reason = never_began(spec.window)
    message = f"no data: the {name} window never began ({reason})"
    return verdict(spec, Status.NO_DATA, None, f"{name} (never began)", message)


def no_traffic(
    spec: ClientSla, window: Window, table: pd.DataFrame, *, histogram: bool = False
) -> Verdict:
    """No-data: nothing recorded in ``window``; names the recorded endpoints after a typo.

    ``table`` is where the rows were looked for (requests, or latency with ``histogram``).
    """
    scope = scope_text(spec.endpoint)
    what = f"no latency histogram for {scope}" if histogram else f"no {scope}"
    message = f"no data: {what} in {window.label}"
    if spec.endpoint and not endpoint_mask(table, spec.endpoint).any():
        message += f"; recorded endpoints: {known_endpoints(table)}"
    return verdict(spec, Status.NO_DATA, None, window.label, message)
