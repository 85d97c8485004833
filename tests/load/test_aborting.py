from __future__ import annotations

import pytest

from slagate.load.aborting import check_abort, window_seconds
from slagate.load.recorder import Totals
from slagate.scenario import Abort

RULE = Abort(max_failure_ratio=0.5, over=10.0, min_requests=20)


def test_the_window_is_the_last_completed_seconds() -> None:
    assert window_seconds(RULE, 1000.4) == (990, 999)
    assert window_seconds(Abort(max_failure_ratio=0.5, over=0.5), 1000.0) == (999, 999)


@pytest.mark.parametrize(
    ("totals", "aborts"),
    [
        pytest.param(Totals(100, 51), True, id="above"),
        pytest.param(Totals(100, 50), False, id="equal-is-fine"),
        pytest.param(Totals(19, 19), False, id="too-few-requests"),
        pytest.param(Totals(20, 11), True, id="just-enough-requests"),
        pytest.param(Totals(0, 0), False, id="no-traffic"),
    ],
)
def test_abort_only_above_the_ratio_with_enough_requests(totals: Totals, aborts: bool) -> None:
    assert (check_abort(RULE, totals) is not None) is aborts


def test_the_explanation_gives_the_numbers() -> None:
    text = check_abort(RULE, Totals(100, 60))
    assert text is not None
    assert "60 of 100 requests failed over the last 10 s" in text
    assert "ratio 0.600 > abort.max_failure_ratio 0.5" in text
