"""Undos of rollouts read back from the harness events, for the summary."""

from __future__ import annotations

from slagate.sla.rollout_spans import RollbackSpan, rollback_spans
from tests.sla.timelines import T0, ev, timeline

ORDER = "rollback deployment/order"
PRODUCT = "rollback deployment/product"


def test_each_start_takes_the_first_end_of_its_name_after_it() -> None:
    events = [
        ev(1_000, "action_start", "set_image deployment/order"),
        ev(30_000, "rollback_start", ORDER, "to revision 1: the run failed (a did not pass)"),
        ev(30_100, "rollback_start", PRODUCT, "to revision 4: the run failed (a did not pass)"),
        ev(31_000, "rollback_end", PRODUCT, "skipped: skipped rollback (current template ...)"),
        ev(36_000, "rollback_end", ORDER, "ok revision 3"),
    ]
    spans = rollback_spans(timeline(events=events).harness_events())
    assert spans == (
        RollbackSpan(
            "order", T0 + 30_000, "to revision 1: the run failed (a did not pass)",
            T0 + 36_000, "ok revision 3",
        ),
        RollbackSpan(
            "product", T0 + 30_100, "to revision 4: the run failed (a did not pass)",
            T0 + 31_000, "skipped: skipped rollback (current template ...)",
        ),
    )  # fmt: skip
    assert [s.ok for s in spans] == [True, False]


def test_a_rollback_cut_off_by_a_kill_has_no_end() -> None:
    events = [ev(30_000, "rollback_start", ORDER, "to revision 1: the run was aborted (x)")]
    [span] = rollback_spans(timeline(events=events).harness_events())
    assert (span.end_ms, span.outcome, span.ok) == (None, "", False)


def test_no_rollback_no_span() -> None:
    assert rollback_spans(timeline(events=[ev(0, "action_start", "x")]).harness_events()) == ()
