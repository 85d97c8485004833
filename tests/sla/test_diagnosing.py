from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slagate.scenario import FailedRequestsSla, ReadyEndpointsSla
from slagate.sla.availability import evaluate_failed_requests
from slagate.sla.diagnosing import Cause, Diagnosis, diagnose
from slagate.sla.ready_endpoints import evaluate_ready_endpoints
from slagate.sla.verdict import Evidence
from slagate.timeline import SCHEMAS, read_table
from slagate.timeline.runinfo import SandboxProfile
from tests.sla.timelines import T0, eps, fail, frame, pod, req, timeline, window

A, B, C, D = "order-6c-a", "order-6c-b", "order-7d-c", "order-7d-d"
RESET = "upstream connect error or disconnect/reset before headers"
PRESTOP = (
    "the pod stopped serving before endpoints were updated; add a preStop delay longer than "
    "the propagation delay"
)


def failures(*offsets_ms: int, status: int = 503) -> list[tuple[Any, ...]]:
    return [fail(t, status=status, error=RESET) for t in offsets_ms]


def rolling_step(
    new: str, old: str, at_ms: int, probe: bool | None = None, prestop_s: float | None = None
) -> list[tuple[Any, ...]]:
    """One rolling-update step: ``new`` is ready at ``at_ms``, ``old`` deleted 100 ms later.
    ``probe``: whether ``new`` has a readiness probe; ``prestop_s``: ``old``'s preStop sleep
    (unknown by default, as are the other pod's facts)."""
    return [
        pod(at_ms - 2000, new, "added", probe=probe),
        pod(at_ms, new, "ready", ready=True, probe=probe),
        pod(at_ms + 100, old, "deleting", prestop_s=prestop_s),
    ]


def endpoints_of_the_rollout() -> list[tuple[Any, ...]]:
    return [
        eps(-5000, [A, B]),
        eps(10_050, [A, B, C]),
        eps(10_150, [B, C], [A]),
        eps(20_050, [B, C, D]),
        eps(20_150, [C, D], [B]),
    ]


def run(
    failed: list[tuple[Any, ...]], pods: list[tuple[Any, ...]], endpoints: list[tuple[Any, ...]]
) -> Diagnosis | None:
    return diagnose(
        frame("failures", failed), frame("pods", pods), frame("endpoints", endpoints), window()
    )


def test_failures_after_a_deletion_point_at_the_termination_race() -> None:
    diagnosis = run(
        failures(10_300, 10_500, 10_700, 11_000, 11_200, 11_500),
        rolling_step(C, A, 10_000),
        endpoints_of_the_rollout()[:3],
    )
    assert diagnosis == Diagnosis(
        cause=Cause.TERMINATION_RACE,
        failed=6,
        summary=(
            f"6 requests failed within 1.4 s after pod {A} began terminating "
            f"(22:13:30.100 UTC): {PRESTOP}"
        ),
        evidence=(
            Evidence(
                T0 + 10_100,
                f"pod {A} began terminating; 6 requests failed in the next 1.4 s "
                "(22:13:30.300-22:13:31.500 UTC)",
            ),
        ),
    )


def test_several_terminations_are_summed() -> None:
    diagnosis = run(
        [*failures(10_300, 10_500, 11_500), *failures(20_200, 20_400, status=0)],
        [*rolling_step(C, A, 10_000), *rolling_step(D, B, 20_000)],
        endpoints_of_the_rollout(),
    )
    assert diagnosis is not None
    assert diagnosis.summary == (
        f"5 requests failed within 1.4 s after 2 pods began terminating (first {A} at "
        f"22:13:30.100 UTC): the pods stopped serving before endpoints were updated; add a "
        "preStop delay longer than the propagation delay"
    )
    assert [e.text for e in diagnosis.evidence] == [
        f"pod {A} began terminating; 3 requests failed in the next 1.4 s "
        "(22:13:30.300-22:13:31.500 UTC)",
        f"pod {B} began terminating; 2 requests failed in the next 0.3 s "
        "(22:13:40.200-22:13:40.400 UTC)",
    ]


def test_failures_right_after_a_join_point_at_the_readiness_probe() -> None:
    diagnosis = run(
        failures(10_020, 10_200, 10_400, 10_700, 11_000, status=0),
        rolling_step(C, A, 10_000),  # the deletion comes after the burst began
        endpoints_of_the_rollout()[:3],
    )
    assert diagnosis is not None
    assert (diagnosis.cause, diagnosis.failed) == (Cause.UNREADY_ENDPOINT, 5)
    assert diagnosis.summary == (
        f"requests reached pod {C} before it was ready: the readiness probe is missing or too "
        "lenient (5 requests failed within 1.0 s after it became ready at 22:13:30.000 UTC)"
    )
    assert [(e.t_ms, e.text) for e in diagnosis.evidence] == [
        (
            T0 + 10_000,
            f"pod {C} became ready; 5 requests failed in the next 1.0 s "
            "(22:13:30.020-22:13:31.000 UTC)",
        )
    ]


def test_a_burst_that_outlasts_its_join_is_explained_by_the_joins_that_follow() -> None:
    """An unprobed pod scaled out just before a rollout without readiness probes: the
    failures run on without a second's pause from the scale-out's join through each
    rollout step's join; each join explains what follows it (the deletions are guarded
    by 2 s preStop sleeps). Explained by the first join alone, 4 of 12 would be too few."""
    scaled_out = "order-6c-e"
    pods = [
        pod(9_000, scaled_out, "added", probe=False),
        pod(10_000, scaled_out, "ready", ready=True, probe=False),
        *rolling_step(C, A, 12_000, probe=False, prestop_s=2.0),
        *rolling_step(D, B, 13_500, probe=False, prestop_s=2.0),
    ]

    diagnosis = run(failures(*range(11_500, 16_000, 400)), pods, [])

    assert diagnosis is not None
    assert (diagnosis.cause, diagnosis.failed) == (Cause.UNREADY_ENDPOINT, 12)
    assert [e.text.split(";")[0] for e in diagnosis.evidence] == [
        f"pod {scaled_out} became ready",
        f"pod {C} became ready",
        f"pod {D} became ready",
    ]


def test_a_join_seen_only_in_the_endpoints_counts() -> None:
    diagnosis = run(failures(10_100, 10_400), [], endpoints_of_the_rollout()[:2])
    assert diagnosis is not None
    assert diagnosis.summary == (
        f"requests reached pod {C} before it was ready: the readiness probe is missing or too "
        "lenient (2 requests failed within 0.3 s after it joined the endpoints of order at "
        "22:13:30.050 UTC)"
    )


@pytest.mark.parametrize(
    ("failed", "pods"),
    [
        pytest.param(
            failures(20_000, 20_300, 20_600, 21_000),
            rolling_step(C, A, 10_000),
            id="unrelated-burst-long-after-the-rollout-step",
        ),
        pytest.param(
            [*failures(10_300, 10_500), *failures(*range(24_000, 25_000, 100))],
            rolling_step(C, A, 10_000),
            id="explained-failures-are-a-minority",
        ),
        pytest.param(
            failures(10_300, 10_500, 10_700, status=404),
            rolling_step(C, A, 10_000),
            id="4xx-is-the-application-not-routing",
        ),
        pytest.param(failures(10_300, 10_500, 10_700), [], id="no-pods-rows-no-endpoint-changes"),
        pytest.param(
            failures(9_000, 9_500), rolling_step(C, A, 10_000), id="failures-before-any-pod-event"
        ),
        pytest.param(
            failures(10_300, 10_500, 10_700),
            [pod(10_100, A, "deleting", prestop_s=5.0)],
            id="deletion-covered-by-its-prestop-sleep",
        ),
        pytest.param(  # failing all along; a well-set rollout's steps came after it began
            failures(*range(5_000, 29_000, 200)),
            [
                row
                for step in range(10)
                for row in rolling_step(
                    f"order-7d-{step}", f"order-6c-{step}", 6_000 + 2_000 * step, True, 5.0
                )
            ],
            id="a-burst-that-began-before-any-pod-event-is-not-pinned-on-later-ones",
        ),
    ],
)
def test_no_diagnosis(failed: list[tuple[Any, ...]], pods: list[tuple[Any, ...]]) -> None:
    assert run(failed, pods, [eps(-5000, [A, B])]) is None


# --- what the pod specs say -------------------------------------------------------------------

# The end-to-end rollout: the new pod has no readiness probe and answers 503 while starting,
# the old one sleeps 2 s in preStop; it is deleted 100 ms after the new one became ready.
AFTER_BOTH = failures(11_050, 11_450, 11_850, 12_250, 12_650)
NO_PROBE_JOIN = (
    f"requests reached pod {C} before it was ready: the readiness probe is missing or too "
    "lenient (5 requests failed within 2.6 s after it joined the endpoints of order at "
    "22:13:30.050 UTC)"
)
RACE_OF_A = (
    f"5 requests failed within 2.5 s after pod {A} began terminating (22:13:30.100 UTC): {PRESTOP}"
)


def test_a_join_without_probe_is_the_cause_when_the_deleted_pod_had_a_prestop_sleep() -> None:
    diagnosis = run(
        AFTER_BOTH,
        rolling_step(C, A, 10_000, probe=False, prestop_s=2.0),
        endpoints_of_the_rollout()[:3],
    )
    assert diagnosis == Diagnosis(
        cause=Cause.UNREADY_ENDPOINT,
        failed=5,
        summary=NO_PROBE_JOIN,
        evidence=(
            Evidence(
                T0 + 10_050,
                f"pod {C} joined the endpoints of order; 5 requests failed in the next 2.6 s "
                "(22:13:31.050-22:13:32.650 UTC)",
            ),
        ),
    )


@pytest.mark.parametrize(
    ("probe", "prestop_s", "cause"),
    [
        pytest.param(True, 0.0, Cause.TERMINATION_RACE, id="probed-join-then-bare-deletion"),
        pytest.param(True, 0.5, Cause.TERMINATION_RACE, id="prestop-shorter-than-1s"),
        pytest.param(True, math.nan, Cause.TERMINATION_RACE, id="exec-prestop-is-unknown"),
        pytest.param(False, 0.0, Cause.TERMINATION_RACE, id="both-plausible-latest-wins"),
        pytest.param(True, 2.0, Cause.UNREADY_ENDPOINT, id="probe-too-lenient"),
        pytest.param(None, 2.0, Cause.UNREADY_ENDPOINT, id="unknown-probe"),
    ],
)
def test_the_pod_specs_decide_which_event_is_plausible(
    probe: bool | None, prestop_s: float, cause: Cause
) -> None:
    diagnosis = run(
        AFTER_BOTH,
        rolling_step(C, A, 10_000, probe=probe, prestop_s=prestop_s),
        endpoints_of_the_rollout()[:3],
    )
    assert diagnosis is not None
    assert (diagnosis.cause, diagnosis.failed) == (cause, 5)


def test_a_probed_join_explains_failures_that_begin_before_the_deletion() -> None:
    diagnosis = run(
        failures(10_020, 10_200, 10_400),
        rolling_step(C, A, 10_000, probe=True, prestop_s=0.0),
        endpoints_of_the_rollout()[:3],
    )
    assert diagnosis is not None
    assert (diagnosis.cause, diagnosis.evidence[0].t_ms) == (Cause.UNREADY_ENDPOINT, T0 + 10_000)


def _without_spec_facts(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    return frame("pods", rows).drop(columns=["readiness_probe", "prestop_s"])


def _from_an_old_run_folder(rows: list[tuple[Any, ...]], run_dir: Path) -> pd.DataFrame:
    """The rows written as a part file of a run recorded before the spec columns existed."""
    old = pa.schema([f for f in SCHEMAS["pods"] if f.name not in ("readiness_probe", "prestop_s")])
    (run_dir / "pods").mkdir()
    records = [dict(zip(old.names, r[: len(old)], strict=True)) for r in rows]
    pq.write_table(pa.Table.from_pylist(records, schema=old), run_dir / "pods" / "kube-1.parquet")
    return read_table(run_dir, "pods")


@pytest.mark.parametrize(
    "pods_of",
    [
        pytest.param(lambda rows, _: frame("pods", rows), id="null-columns"),
        pytest.param(lambda rows, _: _without_spec_facts(rows), id="no-columns"),
        pytest.param(_from_an_old_run_folder, id="old-part-file"),
    ],
)
def test_without_spec_facts_the_latest_event_explains_as_before(
    pods_of: Callable[[list[tuple[Any, ...]], Path], pd.DataFrame], tmp_path: Path
) -> None:
    pods = pods_of(rolling_step(C, A, 10_000), tmp_path)
    diagnosis = diagnose(
        frame("failures", AFTER_BOTH),
        pods,
        frame("endpoints", endpoints_of_the_rollout()[:3]),
        window(),
    )
    assert diagnosis is not None
    assert (diagnosis.cause, diagnosis.summary) == (Cause.TERMINATION_RACE, RACE_OF_A)


# --- hooked into the verdicts -----------------------------------------------------------------


def test_failed_requests_verdict_names_the_likely_cause_first() -> None:
    tl = timeline(
        requests=[req(10, 100, 3), req(11, 100, 1)],
        failures=failures(10_300, 10_500, 10_700, 11_200),
        pods=rolling_step(C, A, 10_000),
        endpoints=endpoints_of_the_rollout()[:3],
    )
    verdict = evaluate_failed_requests(FailedRequestsSla(kind="failed_requests"), tl, window())
    assert verdict.message == (
        "failed requests 4 > 0 in load [0.0 s, 30.0 s]: 4 of 200 requests failed; likely "
        f"cause: 4 requests failed within 1.1 s after pod {A} began terminating "
        f"(22:13:30.100 UTC): {PRESTOP}"
    )
    assert [e.text for e in verdict.evidence[:2]] == [
        f"pod {A} began terminating; 4 requests failed in the next 1.1 s "
        "(22:13:30.300-22:13:31.200 UTC)",
        "failures concentrated 22:13:30.300-22:13:31.200 UTC (4 of 4)",
    ]


def test_without_pods_rows_the_verdict_is_unchanged() -> None:
    tl = timeline(requests=[req(10, 100, 2)], failures=failures(10_300, 10_500))
    verdict = evaluate_failed_requests(FailedRequestsSla(kind="failed_requests"), tl, window())
    assert verdict.message == (
        "failed requests 2 > 0 in load [0.0 s, 30.0 s]: 2 of 100 requests failed"
    )
    assert "likely cause" not in " ".join(e.text for e in verdict.evidence)


def test_ready_endpoints_verdict_names_the_likely_cause() -> None:
    tl = timeline(
        failures=failures(10_300, 10_500),
        pods=rolling_step(C, A, 10_000),
        endpoints=[eps(-5000, [A]), eps(10_050, [A, C]), eps(10_150, [C], [A])],
    )
    spec = ReadyEndpointsSla(kind="ready_endpoints", service="order", min=2)
    verdict = evaluate_ready_endpoints(spec, tl, window())
    assert verdict.message == (
        "order ready endpoints min 1 < 2 in load [0.0 s, 30.0 s]: below 2 for 29.9 s in 2 "
        f"spans; likely cause: 2 requests failed within 0.4 s after pod {A} began terminating "
        f"(22:13:30.100 UTC): {PRESTOP}"
    )
    assert verdict.evidence[0].t_ms == T0 + 10_100


ALB_PROFILE = SandboxProfile(
    timing="compressed",
    timings={},
    data_plane="aws-alb",
    endpoint_propagation_delay_s=1.0,
    target_group={
        "health_check_interval_s": 1.0,
        "healthy_threshold_count": 5.0,
        "deregistration_propagation_s": 7.0,
        "deregistration_delay_s": 15.0,
    },
)


def run_behind(
    profile: SandboxProfile, failed: list[tuple[Any, ...]], pods: list[tuple[Any, ...]]
) -> Diagnosis | None:
    return diagnose(
        frame("failures", failed),
        frame("pods", pods),
        frame("endpoints", endpoints_of_the_rollout()[:3]),
        window(),
        profile,
    )


def test_behind_a_load_balancer_the_race_names_the_prestop_and_the_propagation() -> None:
    """The pod's 2 s preStop covers kube-proxy's lag but not the ALB's 7 s deregistration
    propagation; failures 2-7 s after the deletion (beyond the generic 5 s) are explained."""
    diagnosis = run_behind(
        ALB_PROFILE,
        failures(12_200, 13_000, 14_500, 16_000, 16_800),
        rolling_step(C, A, 10_000, probe=True, prestop_s=2.0),
    )

    assert diagnosis is not None
    assert (diagnosis.cause, diagnosis.failed) == (Cause.TERMINATION_RACE, 5)
    assert diagnosis.summary == (
        f"5 requests failed within 6.7 s after pod {A} began terminating (22:13:30.100 UTC): "
        "the pod stopped serving before endpoints were updated (preStop 2.0 s < aws-alb's "
        "deregistration propagation 7.0 s); add a preStop delay longer than the propagation "
        "delay (aws-alb's deregistration propagation, 7.0 s)"
    )


def test_a_prestop_covering_the_profiles_propagation_rules_the_race_out() -> None:
    diagnosis = run_behind(
        ALB_PROFILE,
        failures(12_200, 13_000, 14_500),
        rolling_step(C, A, 10_000, probe=True, prestop_s=7.5),
    )

    assert diagnosis is None or diagnosis.cause is not Cause.TERMINATION_RACE


def test_without_a_profile_a_2s_prestop_counts_as_covering() -> None:
    """The same timeline judged without a recorded profile: the generic 1 s judgement."""
    diagnosis = run(
        failures(12_200, 13_000, 14_500),
        rolling_step(C, A, 10_000, probe=True, prestop_s=2.0),
        endpoints_of_the_rollout()[:3],
    )

    assert diagnosis is None or diagnosis.cause is not Cause.TERMINATION_RACE
