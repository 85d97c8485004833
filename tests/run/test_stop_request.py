"""Why a run stops early, and which waits a stop cuts short (run.orchestrating.StopRequest)."""

from __future__ import annotations

from slagate.run.orchestrating import StopRequest

LONG_S = 3600.0  # a wait no test could sit out: cut short, or the test hangs


def test_a_signal_after_an_slas_stop_cuts_the_waits_short_and_the_sla_stays_the_cause() -> None:
    """Defect R3: after an ``abort_on_fail`` stop, SIGTERM waited out Prometheus' lag."""
    stop = StopRequest()
    stop.request("SLA p95 breached with abort_on_fail", sla_id="p95", window_end_ms=5000)
    assert not stop.hurried  # the load child drains and the lag is waited for
    assert stop.pause(0.01) is False
    stop.signal("stopped by SIGTERM")
    assert stop.hurried  # the load child is stopped at once
    assert stop.pause(LONG_S) is True
    assert (stop.reason, stop.sla_id, stop.window_end_ms) == (
        "SLA p95 breached with abort_on_fail",
        "p95",
        5000,
    )


def test_any_other_stop_cuts_the_waits_short() -> None:
    stop = StopRequest()
    assert stop.pause(0.01) is False and not stop.hurried
    stop.request("the load did not stop at its planned end")
    assert stop.hurried and stop.pause(LONG_S) is True
    assert stop.sla_id is None


def test_a_signal_first_is_the_cause_and_a_later_slas_stop_changes_nothing() -> None:
    stop = StopRequest()
    stop.signal("stopped by SIGINT")
    stop.request("SLA budget breached with abort_on_fail", sla_id="budget", window_end_ms=1)
    assert (stop.reason, stop.sla_id, stop.window_end_ms) == ("stopped by SIGINT", None, None)
    assert stop.hurried and stop.pause(LONG_S) is True
