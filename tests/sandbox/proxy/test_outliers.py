"""The ``istio`` data plane's pure decisions: retries, outlier ejection, DestinationRules.

Times are plain numbers (seconds on an injected clock); no loop, no sockets.
"""

from __future__ import annotations

from typing import Any

import pytest

from slagate.sandbox.proxy.destinationrules import DestinationRules, read_rule
from slagate.sandbox.proxy.outliers import OutlierDetector, OutlierPolicy, outlier_policy
from slagate.sandbox.proxy.retrying import ISTIO_DEFAULT
from slagate.sandbox.proxy.topology import ServiceKey
from slagate.sandbox.proxy.upstreams import Endpoint

A, B, C = Endpoint("10.0.0.1", 8080), Endpoint("10.0.0.2", 8080), Endpoint("10.0.0.3", 8080)


@pytest.mark.parametrize(
    ("flags", "retries_done", "expected"),
    [
        pytest.param("UF", 0, True, id="refused-connection-retried"),
        pytest.param("UF,URX", 1, True, id="stale-pool-retry-then-refused-still-retried"),
        pytest.param("UF", 2, False, id="two-retries-used"),
        pytest.param("UC", 0, False, id="reset-after-sending-not-in-default-retry-on"),
        pytest.param("UT", 0, False, id="timeout-not-retried"),
    ],
)
def test_default_retry_policy_on_proxy_failures(
    flags: str, retries_done: int, expected: bool
) -> None:
    assert ISTIO_DEFAULT.retries_failure(flags, retries_done) is expected


@pytest.mark.parametrize(
    ("status", "retries_done", "expected"),
    [
        pytest.param(503, 0, True, id="503-retried"),
        pytest.param(503, 1, True, id="503-second-retry"),
        pytest.param(503, 2, False, id="503-attempts-used"),
        pytest.param(500, 0, False, id="500-not-retried"),
        pytest.param(502, 0, False, id="502-not-retried"),
        pytest.param(200, 0, False, id="success"),
    ],
)
def test_default_retry_policy_on_upstream_statuses(
    status: int, retries_done: int, expected: bool
) -> None:
    assert ISTIO_DEFAULT.retries_status(status, retries_done) is expected


def detector(now: float = 0.0, **policy: Any) -> OutlierDetector:
    found = OutlierDetector(OutlierPolicy(**policy), now)
    found.retain([A, B, C])
    return found


def test_consecutive_5xx_eject_at_the_threshold_and_a_success_resets_the_count() -> None:
    outliers = detector(consecutive_5xx=3, max_ejection_percent=100)

    assert [outliers.observe(A, 500, 1.0) for _ in range(2)] == [False, False]
    assert outliers.observe(A, 200, 1.1) is False  # the row is broken
    assert [outliers.observe(A, 502, 1.2) for _ in range(3)] == [False, False, True]
    assert outliers.ejected() == {A}
    assert outliers.ejections_total == 1


def test_gateway_errors_count_only_502_503_504() -> None:
    outliers = detector(consecutive_5xx=0, consecutive_gateway=2, max_ejection_percent=100)

    assert outliers.observe(A, 503, 1.0) is False
    assert outliers.observe(A, 500, 1.0) is False  # a 500 breaks the gateway row
    assert outliers.observe(A, 504, 1.0) is False
    assert outliers.observe(A, 502, 1.0) is True


def test_ejection_lasts_base_time_times_ejections_and_ends_at_a_sweep() -> None:
    outliers = detector(consecutive_5xx=1, interval_s=1.0, base_ejection_s=5.0,
                        max_ejection_percent=100)  # fmt: skip
    outliers.observe(A, 500, 0.5)

    assert outliers.sweep(5.0) is False  # sweeps at 1..5 s: 4.5 s ejected, under 5 s
    assert outliers.ejected() == {A}
    assert outliers.sweep(6.0) is True  # the sweep at 6 s: 5.5 s >= 5 s
    assert outliers.ejected() == frozenset()
    outliers.observe(A, 500, 6.2)  # ejected again before a sweep lowered the count: 2 x 5 s
    outliers.sweep(16.0)
    assert outliers.ejected() == {A}  # 9.8 s < 10 s
    outliers.sweep(17.0)
    assert outliers.ejected() == frozenset()


def test_max_ejection_percent_keeps_hosts_in_and_the_row_fires_once() -> None:
    outliers = detector(consecutive_5xx=1, max_ejection_percent=50)

    assert outliers.observe(A, 500, 1.0) is True  # 1 of 3 = 33 %
    assert outliers.observe(B, 500, 1.0) is False  # 2 of 3 = 67 % > 50 %
    outliers.sweep(100.0)  # A returns
    assert outliers.observe(B, 500, 101.0) is False  # B's row already fired, unbroken


def test_istio_default_max_ejection_percent_ejects_nothing_of_three_pods() -> None:
    outliers = detector(consecutive_5xx=1)  # maxEjectionPercent 10: 1 of 3 is 33 %

    assert outliers.observe(A, 500, 1.0) is False
    assert outliers.ejected() == frozenset()


def test_below_min_health_percent_every_endpoint_gets_traffic() -> None:
    outliers = detector(consecutive_5xx=1, max_ejection_percent=100, min_health_percent=50)
    outliers.observe(A, 500, 1.0)
    assert outliers.ejected() == {A}  # 67 % healthy

    outliers.observe(B, 500, 1.0)

    assert outliers.ejected() == frozenset()  # 33 % < 50 %: panic


def test_outlier_policy_reads_istio_fields_and_names_the_rest() -> None:
    policy, problems = outlier_policy(
        {"consecutive5xxErrors": 1, "interval": "1s", "baseEjectionTime": "3m",
         "maxEjectionPercent": 100, "consecutiveLocalOriginFailures": 2, "minHealthPercent": "x"}
    )  # fmt: skip

    assert policy == OutlierPolicy(consecutive_5xx=1, interval_s=1.0, base_ejection_s=180.0,
                                   max_ejection_percent=100.0)  # fmt: skip
    assert problems == [
        "outlierDetection.consecutiveLocalOriginFailures is not modelled (ignored)",
        "outlierDetection.minHealthPercent: must be a number, got 'x' (default used)",
    ]


def rule(name: str, host: str, created: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": created},
        "spec": {"host": host, **(spec or {})},
    }


def test_rules_resolve_hosts_and_the_oldest_rule_wins() -> None:
    rules = DestinationRules()
    detection = {"trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 2}}}
    rules.replace([
        rule("newer", "product.shop.svc.cluster.local", "2026-01-02T00:00:00Z"),
        rule("older", "product", "2026-01-01T00:00:00Z", detection),
    ])  # fmt: skip

    assert rules.outliers(ServiceKey("shop", "product")) == OutlierPolicy(consecutive_5xx=2)
    rules.apply("DELETED", rule("older", "product", ""))
    assert rules.outliers(ServiceKey("shop", "product")) is None  # the newer one has none


def test_a_rule_names_what_it_carries_that_is_not_modelled() -> None:
    read = read_rule(
        rule("cb", "*.example.com", "", {"subsets": [], "trafficPolicy": {"connectionPool": {}}})
    )

    assert read.service is None
    assert read.problems == (
        "DestinationRule shop/cb: spec.subsets is not modelled",
        "DestinationRule shop/cb: spec.host '*.example.com' names no Service; the rule is ignored",
        "DestinationRule shop/cb: spec.trafficPolicy.connectionPool is not modelled",
    )
