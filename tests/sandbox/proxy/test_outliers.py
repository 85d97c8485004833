"""The ``istio`` data plane's pure decisions: retries, outlier ejection, faults, and
reading DestinationRules and VirtualServices.

Times are plain numbers (seconds on an injected clock); no loop, no sockets.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from slagate.sandbox.proxy.destinationrules import destination_rules, read_rule
from slagate.sandbox.proxy.outliers import OutlierDetector, OutlierPolicy, outlier_policy
from slagate.sandbox.proxy.retrying import ISTIO_DEFAULT, RetryPolicy
from slagate.sandbox.proxy.topology import ServiceKey
from slagate.sandbox.proxy.upstreams import Endpoint
from slagate.sandbox.proxy.virtualservices import Fault, Route, read_virtual_service

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
    rules = destination_rules()
    detection = {"trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 2}}}
    rules.replace([
        rule("newer", "product.shop.svc.cluster.local", "2026-01-02T00:00:00Z"),
        rule("older", "product", "2026-01-01T00:00:00Z", detection),
    ])  # fmt: skip

    assert rules.for_service(ServiceKey("shop", "product")) == OutlierPolicy(consecutive_5xx=2)
    rules.apply("DELETED", rule("older", "product", ""))
    assert rules.for_service(ServiceKey("shop", "product")) is None  # the newer one has none


def test_a_rule_names_what_it_carries_that_is_not_modelled() -> None:
    read = read_rule(
        rule("cb", "*.example.com", "", {"subsets": [], "trafficPolicy": {"connectionPool": {}}})
    )

    assert read.services == ()
    assert read.problems == (
        "DestinationRule shop/cb: spec.subsets is not modelled",
        "DestinationRule shop/cb: spec.host '*.example.com' names no Service; ignored",
        "DestinationRule shop/cb: spec.trafficPolicy.connectionPool is not modelled",
    )


class Draws(random.Random):
    """A ``random.Random`` whose ``random()`` returns the given values in turn."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self._values = list(values)

    def random(self) -> float:
        return self._values.pop(0)


@pytest.mark.parametrize(
    ("draws", "expected"),
    [
        pytest.param((0.099, 0.249), (2.0, 503), id="both-under-their-percentages"),
        pytest.param((0.1, 0.25), (0.0, None), id="draws-at-the-percentages-miss"),
        pytest.param((0.5, 0.0), (0.0, 503), id="abort-without-delay"),
    ],
)
def test_fault_percentages_decide_per_request(
    draws: tuple[float, float], expected: tuple[float, int | None]
) -> None:
    fault = Fault(delay_s=2.0, delay_percent=10.0, abort_status=503, abort_percent=25.0)

    assert fault.draw(Draws(*draws)) == expected


def service_object(http: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "product", "namespace": "shop", "creationTimestamp": "t"},
        "spec": {"hosts": ["product"], "http": http, **spec},
    }


TO_PRODUCT = {"route": [{"destination": {"host": "product"}}]}


def test_a_virtual_service_reads_fault_retries_and_timeout() -> None:
    read = read_virtual_service(
        service_object([{
            **TO_PRODUCT,
            "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 50}},
                      "delay": {"fixedDelay": "5s"}},
            "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "gateway-error,409"},
            "timeout": "10s",
            "mirror": {"host": "shadow"},
        }])
    )  # fmt: skip

    assert read.services == (ServiceKey("shop", "product"),)
    assert read.value == Route(
        Fault(delay_s=5.0, delay_percent=0.0, abort_status=503, abort_percent=50.0),
        RetryPolicy(3, frozenset({"gateway-error", "retriable-status-codes"}), frozenset({409}),
                    per_try_timeout_s=2.0),
        timeout_s=10.0,
    )  # fmt: skip
    assert read.problems == ("VirtualService shop/product: spec.http[0].mirror is not modelled",)


@pytest.mark.parametrize(
    ("http", "named"),
    [
        pytest.param([{"match": [{"uri": {"prefix": "/a"}}], **TO_PRODUCT}],
                     "spec.http[0].match is not modelled", id="match"),
        pytest.param([{"route": [{"destination": {"host": "reviews"}}]}],
                     "destination is not its own host", id="another-host"),
        pytest.param([{"route": [{"destination": {"host": "product", "subset": "v2"}}]}],
                     "destination is not its own host", id="subset"),
    ],
)  # fmt: skip
def test_a_virtual_service_it_cannot_apply_is_ignored_and_says_why(
    http: list[dict[str, Any]], named: str
) -> None:
    read = read_virtual_service(service_object(http))

    assert read.services == ()
    assert named in read.problems[-1]
    assert read.problems[-1].endswith("the VirtualService is ignored")


def test_retries_with_no_attempts_turn_retries_off_and_defaults_fill_the_rest() -> None:
    off = read_virtual_service(service_object([{**TO_PRODUCT, "retries": {"attempts": 0}}]))
    plain = read_virtual_service(service_object([{**TO_PRODUCT, "retries": {"attempts": 5}}]))

    assert off.value.retry is None
    assert plain.value.retry == RetryPolicy(attempts=5)  # Istio's retryOn and 503


@pytest.mark.parametrize(
    ("retry_on", "flags", "expected"),
    [
        pytest.param("5xx", "UC", True, id="5xx-covers-a-reset"),
        pytest.param("gateway-error", "UT", True, id="gateway-error-covers-a-per-try-timeout"),
        pytest.param("reset", "UF", True, id="reset-covers-a-refusal"),
        pytest.param("retriable-4xx", "UF", False, id="4xx-no-failures"),
    ],
)
def test_retry_on_conditions_for_failures(retry_on: str, flags: str, expected: bool) -> None:
    policy = RetryPolicy(attempts=1, retry_on=frozenset({retry_on}))

    assert policy.retries_failure(flags, 0) is expected
