"""The abort rule: stop the load when too many requests fail (protects the target).

Pure: ``evaluate`` reads a rule, a recorder's totals and the time. The load child asks it
once a second; in a plain-Locust experiment ``slagate.load.guarding`` does.
"""

from __future__ import annotations

import math

from slagate.load.recorder import Recorder, Totals
from slagate.scenario import Abort

RULE = "max_failure_ratio"


def window_seconds(rule: Abort, now_s: float) -> tuple[int, int]:
    """The completed seconds the rule looks at: the last ``over`` s before the current one."""
    last = math.floor(now_s) - 1
    return last - max(1, math.ceil(rule.over)) + 1, last


def check_abort(rule: Abort, totals: Totals) -> str | None:
    """Why the load must stop, or None. Needs at least ``min_requests`` in the window."""
    if totals.requests < rule.min_requests or totals.requests == 0:
        return None
    ratio = totals.failures / totals.requests
    if ratio <= rule.max_failure_ratio:
        return None
    return (
        f"{totals.failures} of {totals.requests} requests failed over the last {rule.over:g} s "
        f"(ratio {ratio:.3f} > abort.max_failure_ratio {rule.max_failure_ratio:g}); "
        "the load was stopped to protect the target"
    )


def evaluate(rule: Abort, recorder: Recorder, now_s: float) -> str | None:
    """``check_abort`` over the recorder's last ``rule.over`` completed seconds."""
    first, last = window_seconds(rule, now_s)
    return check_abort(rule, recorder.window_totals(first, last))
