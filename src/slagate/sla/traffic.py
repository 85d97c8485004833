"""What the client-side (traffic) evaluators share: their spec type, subject and no-data.

Pure: builds verdicts from the values given; no clock reads, no logging, no I/O.
A window without a single request is ``no-data``: zero traffic proves nothing about
availability, latency or throughput.
"""

from __future__ import annotations

import pandas as pd

from slagate.scenario import AvailabilitySla, FailedRequestsSla, LatencySla, ThroughputSla
from slagate.sla.building import no_data
from slagate.sla.selecting import endpoint_mask, known_endpoints, scope_text
from slagate.sla.verdict import Verdict, Window

ClientSla = AvailabilitySla | FailedRequestsSla | LatencySla | ThroughputSla


def subject(spec: ClientSla, what: str) -> str:
    """``"availability"`` or, for one endpoint, ``"GET /orders availability"``."""
    return f"{spec.endpoint} {what}" if spec.endpoint else what


def no_traffic(
    spec: ClientSla, window: Window, table: pd.DataFrame, *, histogram: bool = False
) -> Verdict:
    """No-data: nothing recorded in ``window``; names the recorded endpoints after a typo.

    ``table`` is where the rows were looked for (requests, or latency with ``histogram``).
    """
    scope = scope_text(spec.endpoint)
    what = f"no latency histogram for {scope}" if histogram else f"no {scope}"
    detail = ""
    if spec.endpoint and not endpoint_mask(table, spec.endpoint).any():
        detail = f"recorded endpoints: {known_endpoints(table)}"
    return no_data(spec, window, what, detail)
