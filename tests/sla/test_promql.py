"""PromQL SLAs judged from the ``metrics`` table: reductions, comparisons, no-data reasons."""

from __future__ import annotations

import math
from typing import Any

import pytest

from slagate.errors import ExitCode
from slagate.sla.judging import exit_code_for, judge
from slagate.sla.verdict import Status, Verdict
from tests.sla.timelines import ev, load_events, sample, scenario, timeline

PROM = {"prometheus": {"url": "http://p:9090", "source": "option", "step_s": 1.0, "range_s": 5.0}}


def promql(**fields: Any) -> dict[str, Any]:
    return {"kind": "promql", "id": "q", "query": "x", "threshold": 0.01, **fields}


def verdict_of(
    sla: dict[str, Any],
    metrics: list[tuple[Any, ...]],
    events: list[Any] = (),  # type: ignore[assignment]
    info: dict[str, Any] = PROM,
) -> Verdict:
    tl = timeline(events=[*load_events(10), *events], metrics=metrics, info=info)
    (verdict,) = judge(scenario([sla]), tl)
    return verdict


def every_second(values: list[float], series: str = "{}") -> list[tuple[Any, ...]]:
    return [sample(s, v, series=series) for s, v in enumerate(values)]


@pytest.mark.parametrize(
    ("reduce", "op", "threshold", "status", "measured"),
    [
        pytest.param("max", "<=", 0.03, Status.PASS, 0.03, id="max-at-threshold"),
        pytest.param("max", "<", 0.03, Status.FAIL, 0.03, id="max-strict"),
        pytest.param("min", ">=", 0.01, Status.PASS, 0.01, id="min"),
        pytest.param("avg", "<=", 0.015, Status.FAIL, 0.019, id="avg"),
        pytest.param("last", "==", 0.01, Status.PASS, 0.01, id="last"),
        pytest.param("p50", "<=", 0.02, Status.PASS, 0.02, id="p50"),
    ],
)
def test_a_series_is_reduced_over_the_window_and_compared(
    reduce: str, op: str, threshold: float, status: Status, measured: float
) -> None:
    values = [0.01, 0.02, 0.03, 0.02, 0.01, 0.02, 0.03, 0.02, 0.02, 0.01]
    verdict = verdict_of(promql(reduce=reduce, op=op, threshold=threshold), every_second(values))
    assert (verdict.status, verdict.measured) == (status, pytest.approx(measured))


def test_the_worst_series_decides_and_is_named() -> None:
    metrics = every_second([0.0] * 10, '{pod="a"}') + every_second(
        [0.0] * 5 + [0.2] * 5, '{pod="b"}'
    )
    verdict = verdict_of(promql(), metrics)
    assert verdict.status is Status.FAIL
    assert verdict.measured == 0.2
    assert verdict.message.startswith(
        'max 0.2 > 0.01 in load [0.0 s, 10.0 s] +3 s lag ({pod="b"} at '
    )
    assert [e.text for e in verdict.evidence] == ['{pod="b"}: max 0.2', '{pod="a"}: max 0']


def test_nan_samples_are_gaps_in_value_not_in_data() -> None:
    verdict = verdict_of(promql(), every_second([math.nan, math.nan, 0.0, 0.005] + [0.0] * 6))
    assert (verdict.status, verdict.measured) == (Status.PASS, 0.005)


@pytest.mark.parametrize(
    ("metrics", "events", "reason"),
    [
        pytest.param([], [], "the query returned no samples", id="empty"),
        pytest.param(every_second([math.nan] * 10), [], "every sample is NaN", id="nan"),
        pytest.param(
            every_second([0.0] * 3), [], "series {} went stale at 22:13:22.000 UTC", id="stale"
        ),
        pytest.param(
            [],
            [ev(11_000, "metrics_failed", "q", "cannot reach Prometheus at http://p:9090")],
            "the query could not be fetched (cannot reach Prometheus at http://p:9090)",
            id="unreachable",
        ),
    ],
)
def test_no_data_is_never_a_pass_and_says_why(
    metrics: list[tuple[Any, ...]], events: list[Any], reason: str
) -> None:
    verdict = verdict_of(promql(), metrics, events)
    assert verdict.status is Status.NO_DATA
    assert reason in verdict.message
    assert exit_code_for([verdict], aborted=False) is ExitCode.FAILED


def test_an_optional_sla_without_data_does_not_fail_the_gate() -> None:
    verdict = verdict_of(promql(optional=True), [])
    assert (verdict.status, verdict.optional) == (Status.NO_DATA, True)
    assert exit_code_for([verdict], aborted=False) is ExitCode.PASSED
    assert Verdict.from_json(verdict.to_json()) == verdict


def test_an_optional_sla_that_fails_still_fails_the_gate() -> None:
    verdict = verdict_of(promql(optional=True), every_second([0.5] * 10))
    assert verdict.status is Status.FAIL
    assert exit_code_for([verdict], aborted=False) is ExitCode.FAILED


def test_samples_of_other_queries_and_outside_the_window_are_ignored() -> None:
    # the window: load [0 s, 10 s), and Prometheus' lag after it (3 steps by default)
    metrics = [*every_second([0.0] * 10), sample(3, 9.0, query="other"), sample(13, 9.0)]
    assert verdict_of(promql(), metrics).measured == 0.0


@pytest.mark.parametrize(
    ("lag_s", "at_s", "status"),
    [
        pytest.param(2.0, 11, Status.FAIL, id="within-the-lag"),
        pytest.param(2.0, 12, Status.PASS, id="after-the-lag"),
        pytest.param(0.0, 10, Status.PASS, id="no-lag"),
    ],
)
def test_what_prometheus_shows_a_lag_after_the_window_counts(
    lag_s: float, at_s: int, status: Status
) -> None:
    """Errors in a window's last second reach Prometheus a scrape or two later (a rollout
    window ends when the last old pod is gone: its failures come right at the end)."""
    info = {"prometheus": {**PROM["prometheus"], "lag_s": lag_s}}
    metrics = [*every_second([0.0] * 14), sample(at_s, 0.5)]
    verdict = verdict_of(promql(), metrics, info=info)
    assert verdict.status is status, verdict.message
    lag = f" +{lag_s:g} s lag" if lag_s else ""
    assert verdict.message.startswith(f"max {0.5 if status is Status.FAIL else 0:g}")
    assert f"in load [0.0 s, 10.0 s]{lag}" in verdict.message


def test_samples_in_the_lag_are_welcome_not_required() -> None:
    """The run's own window ends after the run fetched its series: nothing can be there."""
    verdict = verdict_of(promql(), every_second([0.0] * 7))  # 4 s short of the end: not stale
    assert verdict.status is Status.PASS, verdict.message


@pytest.mark.parametrize(
    ("fields", "inside", "after"),
    [
        pytest.param({"reduce": "avg", "threshold": 0.018}, [0.0] * 9 + [0.2], 0.0, id="avg"),
        pytest.param({"reduce": "p95", "threshold": 0.25}, [0.0] * 9 + [0.5], 0.0, id="p95"),
        pytest.param({"reduce": "last"}, [0.0] * 9 + [0.5], 0.0, id="last"),
        pytest.param({"op": ">=", "threshold": 2}, [1.0] * 10, 2.0, id="max-above"),
    ],
)
def test_what_comes_after_the_window_never_passes_a_window_that_fails(
    fields: dict[str, Any], inside: list[float], after: float
) -> None:
    """Samples in the lag may be of what happened after the window: a quiet second lowers
    an average, a percentile or a last value; a replica ready too late raises a max."""
    info = {"prometheus": {**PROM["prometheus"], "lag_s": 2.0}}
    metrics = [*every_second(inside), sample(10, after), sample(11, after)]
    verdict = verdict_of(promql(**fields), metrics, info=info)
    assert verdict.status is Status.FAIL, verdict.message
    assert "lag" not in verdict.message  # the window alone decided
