"""The ``aws-alb`` and ``aws-nlb`` data planes in the proxy, against real HTTP servers on
loopback (no cluster): routing follows the target groups (``registering``), not the
endpoint delay. Timer-driven, so only lower bounds are asserted on the lags."""

from __future__ import annotations

import time

import pytest

from slagate.sandbox.proxy import ServiceProxy
from slagate.sandbox.proxy.upstreams import Balancing
from slagate.sandbox.settings import DataPlane
from slagate.sandbox.targetgroups import TargetGroupTiming
from tests.sandbox.proxy.harness import DELAY_S, Harness, LoopThread, Upstream

# healthy 0.3 s after ready; new requests until 1.5 s after leaving
TIMING = TargetGroupTiming(
    health_check_interval_s=0.1,
    healthy_threshold_count=3,
    deregistration_propagation_s=1.5,
    deregistration_delay_s=15.0,
)


@pytest.mark.parametrize("plane", [DataPlane.AWS_ALB, DataPlane.AWS_NLB])
def test_a_pod_is_routed_after_its_health_checks_and_dropped_after_the_propagation(
    plane: DataPlane, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    loop = LoopThread()
    proxy = ServiceProxy(DELAY_S, data_plane=plane, target_group=TIMING)
    try:
        harness = Harness(loop, proxy)
        pushed = harness.route(a)
        harness.wait_routed(a)
        registered_s = time.monotonic() - pushed
        pushed = harness.route(b)  # a terminates as b turns ready
        harness.wait_routed(a, b)  # b is healthy while a still gets new requests
        harness.wait_routed(b)
        left_s = time.monotonic() - pushed
    finally:
        loop.run(proxy.close)
        loop.close()

    assert registered_s >= TIMING.registration_s
    assert left_s >= TIMING.deregistration_propagation_s


def test_the_alb_balances_per_request_and_the_nlb_per_connection() -> None:
    alb = ServiceProxy(DELAY_S, data_plane=DataPlane.AWS_ALB, target_group=TIMING)
    nlb = ServiceProxy(DELAY_S, data_plane=DataPlane.AWS_NLB, target_group=TIMING)

    assert (alb.data_plane.per_connection, alb.balancing) == (False, Balancing.LEAST_REQUEST)
    assert (nlb.data_plane.per_connection, nlb.balancing) == (True, Balancing.RANDOM)
    # no fallback to terminating pods: a load balancer knows only its targets
    assert not alb.topology.fallback_to_terminating
    assert not nlb.topology.fallback_to_terminating


def test_a_load_balancer_without_its_timings_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aws-nlb data plane needs target_group"):
        ServiceProxy(DELAY_S, data_plane=DataPlane.AWS_NLB)
