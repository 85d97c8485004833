"""Target groups (``aws-alb``, ``aws-nlb``): when a ready pod starts and a leaving pod stops
getting requests, on an injected clock (seconds)."""

from __future__ import annotations

import pytest

from slagate.sandbox.proxy.registering import TargetGroups
from slagate.sandbox.proxy.topology import EndpointsByPort, ServiceKey
from slagate.sandbox.proxy.upstreams import Endpoint
from slagate.sandbox.targetgroups import TargetGroupTiming

ORDER = ServiceKey("default", "order")
A, B = Endpoint("127.0.0.1", 8080), Endpoint("127.0.0.2", 8080)
# 5 checks 1 s apart: healthy 5 s after ready; new requests until 7 s after leaving
TIMING = TargetGroupTiming(
    health_check_interval_s=1.0,
    healthy_threshold_count=5,
    deregistration_propagation_s=7.0,
    deregistration_delay_s=15.0,
)


def ready(*endpoints: Endpoint) -> EndpointsByPort:
    return {"http": frozenset(endpoints)}


def routed(groups: TargetGroups, now: float) -> frozenset[Endpoint]:
    return groups.routable(ORDER, now)["http"]


def test_a_ready_pod_gets_requests_only_once_its_health_checks_passed() -> None:
    groups = TargetGroups(TIMING)

    due = groups.push((ORDER, ready(A)), now=100.0)

    assert due == 105.0  # HealthyThresholdCount x HealthCheckIntervalSeconds later
    assert groups.pop_due(104.9) == []
    assert routed(groups, 104.9) == frozenset()
    assert groups.pop_due(105.0) == [(ORDER, ready(A))]
    assert groups.next_due() is None


def test_a_leaving_pod_keeps_getting_new_requests_for_the_propagation() -> None:
    groups = TargetGroups(TIMING)
    groups.push((ORDER, ready(A, B)), now=0.0)
    groups.pop_due(5.0)

    due = groups.push((ORDER, ready(B)), now=10.0)  # A terminates at 10 s

    assert due == 17.0
    assert routed(groups, 16.9) == frozenset({A, B})
    assert groups.pop_due(16.9) == []
    assert groups.pop_due(17.0) == [(ORDER, ready(B))]


def test_a_rolling_step_routes_the_new_pod_before_the_old_one_leaves() -> None:
    """The compressed ALB's order: registration (5 s) under the propagation (7 s), so a
    pod deleted right after its replacement turned ready always leaves a target."""
    groups = TargetGroups(TIMING)
    groups.push((ORDER, ready(A)), now=0.0)
    groups.pop_due(5.0)

    groups.push((ORDER, ready(A, B)), now=20.0)  # B ready
    groups.push((ORDER, ready(B)), now=20.5)  # A deleted

    changes = []
    while (due := groups.next_due()) is not None:
        changes += [(due, endpoints["http"]) for _, endpoints in groups.pop_due(due)]
    assert changes == [(25.0, frozenset({A, B})), (27.5, frozenset({B}))]


@pytest.mark.parametrize(
    ("leaves_at", "expected"),
    [
        pytest.param(3.0, frozenset(), id="unready-before-healthy-never-routed"),
        pytest.param(5.0, frozenset({A}), id="unready-after-healthy-still-routed"),
    ],
)
def test_a_pod_that_leaves_before_it_was_healthy_never_gets_a_request(
    leaves_at: float, expected: frozenset[Endpoint]
) -> None:
    groups = TargetGroups(TIMING)
    groups.push((ORDER, ready(A)), now=0.0)

    groups.push((ORDER, ready()), now=leaves_at)

    assert routed(groups, 6.0) == expected
    assert routed(groups, leaves_at + 7.0) == frozenset()


def test_a_pod_ready_again_while_leaving_stays_a_target() -> None:
    groups = TargetGroups(TIMING)
    groups.push((ORDER, ready(A)), now=0.0)
    groups.pop_due(5.0)
    groups.push((ORDER, ready()), now=10.0)  # its readiness probe failed

    groups.push((ORDER, ready(A)), now=12.0)  # and passed again

    assert routed(groups, 30.0) == frozenset({A})


def test_a_pod_ready_again_after_it_left_registers_anew() -> None:
    groups = TargetGroups(TIMING)
    groups.push((ORDER, ready(A)), now=0.0)
    groups.push((ORDER, ready()), now=10.0)

    due = groups.push((ORDER, ready(A)), now=20.0)

    assert due == 25.0
    assert routed(groups, 24.0) == frozenset()
    assert routed(groups, 25.0) == frozenset({A})


def test_the_timings_travel_to_the_proxy_process_and_back() -> None:
    text = TIMING.to_argument()

    assert TargetGroupTiming.from_argument(text) == TIMING
    assert TIMING.registration_s == 5.0
