"""Relative SLAs: a bound that is a ratio to the same measurement on a baseline run."""

from __future__ import annotations

from typing import Any

import pytest

from slagate.sla.judging import judge
from slagate.sla.relative import Baseline
from slagate.sla.verdict import Status, Verdict
from slagate.timeline import Timeline
from tests.sla.timelines import hist, load_events, req, scenario, timeline


def run(latency_ms: int, rps: int = 10, failures: int = 0) -> Timeline:
    """A 30 s load: ``rps`` requests a second, all at ``latency_ms``, ``failures`` in s 5."""
    return timeline(
        events=load_events(30),
        requests=[req(s, rps, failures if s == 5 else 0) for s in range(30)],
        latency=[hist(s, latency_ms, rps) for s in range(30)],
    )


def verdict(sla: dict[str, Any], new: Timeline, baseline: Baseline | None) -> Verdict:
    (only,) = judge(scenario([{"id": "relative", **sla}]), new, baseline=baseline)
    return only


P95_RATIO = {"kind": "latency", "percentile": 95, "max_ratio_to_baseline": 1.2}


@pytest.mark.parametrize(
    ("sla", "base", "new", "status", "threshold"),
    [
        pytest.param(P95_RATIO, run(50), run(60), Status.PASS, 60.0, id="latency-at-the-ratio"),
        pytest.param(P95_RATIO, run(50), run(70), Status.FAIL, 60.0, id="latency-above"),
        pytest.param(
            {"kind": "throughput", "min_ratio_to_baseline": 0.8},
            run(50, rps=10), run(50, rps=7), Status.FAIL, 8.0, id="throughput-below",
        ),
        pytest.param(
            {"kind": "throughput", "min_ratio_to_baseline": 0.8},
            run(50, rps=10), run(50, rps=9), Status.PASS, 8.0, id="throughput-within",
        ),
        pytest.param(
            {"kind": "availability", "min_ratio_to_baseline": 0.999},
            run(50), run(50, failures=3), Status.FAIL, 99.9, id="availability-below",
        ),
    ],
)  # fmt: skip
def test_a_ratio_bounds_the_new_run_by_the_baselines_measurement(
    sla: dict[str, Any], base: Timeline, new: Timeline, status: Status, threshold: float
) -> None:
    result = verdict(sla, new, Baseline("base-run", base))

    assert result.status is status
    assert result.threshold == threshold
    assert "in baseline base-run" in result.message


def test_the_bound_is_the_same_as_the_absolute_sla_it_stands_for() -> None:
    relative = verdict(P95_RATIO, run(70), Baseline("b", run(50)))
    absolute = verdict({"kind": "latency", "percentile": 95, "max_ms": 60}, run(70), None)

    assert (relative.status, relative.measured, relative.threshold, relative.unit) == (
        absolute.status, absolute.measured, absolute.threshold, absolute.unit,
    )  # fmt: skip
    assert relative.message.startswith(absolute.message)
    assert relative.message.endswith("(bound: 1.2 x 50 ms in baseline b)")


@pytest.mark.parametrize(
    ("baseline", "why"),
    [
        pytest.param(None, "no --baseline given", id="none-given"),
        pytest.param(
            Baseline(missing="no passing run of t under reports"),
            "no passing run of t under reports",
            id="latest-pass-found-none",
        ),
    ],
)
def test_without_a_baseline_a_relative_sla_has_no_data(baseline: Baseline | None, why: str) -> None:
    result = verdict(P95_RATIO, run(10), baseline)

    assert result.status is Status.NO_DATA
    assert result.fails_the_gate
    assert f"no baseline run to compare with ({why})" in result.message
    assert result.threshold == 1.2 and result.unit == "x baseline"


def test_a_baseline_that_measured_nothing_gives_no_data() -> None:
    empty = timeline(events=load_events(30))

    result = verdict(P95_RATIO, run(10), Baseline("quiet", empty))

    assert result.status is Status.NO_DATA
    assert "the baseline run quiet measured nothing: no data: no latency histogram" in (
        result.message
    )


def test_the_baseline_is_measured_in_its_own_named_window() -> None:
    """Load starts at different times in the two runs: the windows are each run's own."""
    late = timeline(
        events=[(e[0] + 3_600_000, *e[1:]) for e in load_events(30)],
        requests=[req(3600 + s, 10) for s in range(30)],
        latency=[hist(3600 + s, 50, 10) for s in range(30)],
    )

    result = verdict(P95_RATIO, run(70), Baseline("late", late))

    assert result.status is Status.FAIL
    assert result.threshold == 60.0
