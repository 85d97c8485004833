"""The proxy's pure routing state: topology, delay line, balancing."""

from __future__ import annotations

import random
from typing import Any

import pytest

from slagate.sandbox.proxy.delaying import DelayLine
from slagate.sandbox.proxy.topology import (
    ServiceKey,
    ServicePort,
    Topology,
    endpoints_for_port,
    routable_endpoints,
    service_ports,
)
from slagate.sandbox.proxy.upstreams import Backends, Balancing, Endpoint


def endpoint_slice(
    name: str, service: str, endpoints: list[tuple[str, bool | None]], port: int = 8080
) -> dict[str, Any]:
    listed = []
    for address, ready in endpoints:
        item: dict[str, Any] = {"addresses": [address]}
        if ready is not None:
            item["conditions"] = {"ready": ready, "terminating": not ready}
        listed.append(item)
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": listed,
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
    }


ORDER = ServiceKey("default", "order")


def test_ready_endpoints_skip_not_ready_and_read_unknown_as_ready() -> None:
    slices = [
        endpoint_slice(
            "order-a", "order", [("127.0.0.1", True), ("127.0.0.2", False), ("127.0.0.3", None)]
        )
    ]

    assert routable_endpoints(slices) == {
        "http": frozenset({Endpoint("127.0.0.1", 8080), Endpoint("127.0.0.3", 8080)})
    }


def draining(address: str, serving: bool | None = True) -> dict[str, Any]:
    conditions: dict[str, Any] = {"ready": False, "terminating": True}
    if serving is not None:
        conditions["serving"] = serving
    return {"addresses": [address], "conditions": conditions}


def order_slice(*endpoints: dict[str, Any]) -> dict[str, Any]:
    body = endpoint_slice("order-a", "order", [])
    body["endpoints"] = list(endpoints)
    return body


def test_without_a_ready_endpoint_kube_proxy_falls_back_to_serving_terminating_ones() -> None:
    slices = [
        order_slice(
            draining("127.0.0.1"), draining("127.0.0.2", serving=False), draining("127.0.0.3", None)
        )
    ]
    serving = frozenset({Endpoint("127.0.0.1", 8080), Endpoint("127.0.0.3", 8080)})

    assert routable_endpoints(slices, fallback_to_terminating=True) == {"http": serving}
    assert routable_endpoints(slices) == {"http": frozenset()}  # per-request: none


def test_the_fallback_is_unused_while_one_endpoint_is_ready() -> None:
    slices = [order_slice(draining("127.0.0.1"), {"addresses": ["127.0.0.2"]})]

    routed = routable_endpoints(slices, fallback_to_terminating=True)

    assert routed == {"http": frozenset({Endpoint("127.0.0.2", 8080)})}


def test_the_topology_applies_the_fallback_it_was_built_with() -> None:
    kube_proxy, per_request = Topology(fallback_to_terminating=True), Topology()
    for topology in (kube_proxy, per_request):
        topology.apply_slice("ADDED", order_slice(draining("127.0.0.1")))

    assert kube_proxy.endpoints(ORDER) == {"http": frozenset({Endpoint("127.0.0.1", 8080)})}
    assert per_request.endpoints(ORDER) == {"http": frozenset()}


def test_only_loopback_endpoints_are_routed() -> None:
    slices = [
        endpoint_slice(
            "web-a", "web", [("127.1.2.3", True), ("10.0.0.1", True), ("web.local", True)]
        )
    ]

    assert routable_endpoints(slices) == {"http": frozenset({Endpoint("127.1.2.3", 8080)})}


def test_service_ports_keep_tcp_ports_only() -> None:
    service = {
        "spec": {
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"port": 81},
            ]
        }
    }

    assert service_ports(service) == (ServicePort("http", 80), ServicePort("", 81))


def test_topology_merges_slices_of_one_service_and_reports_touched_services() -> None:
    topology = Topology()
    touched = topology.replace_slices([endpoint_slice("order-a", "order", [("127.0.0.1", True)])])
    touched |= topology.apply_slice(
        "ADDED", endpoint_slice("order-b", "order", [("127.0.0.2", True)])
    )

    assert touched == {ORDER}
    assert topology.endpoints(ORDER)["http"] == {
        Endpoint("127.0.0.1", 8080),
        Endpoint("127.0.0.2", 8080),
    }

    topology.apply_slice("DELETED", endpoint_slice("order-a", "order", []))
    assert topology.endpoints(ORDER)["http"] == {Endpoint("127.0.0.2", 8080)}


def test_a_single_port_service_matches_a_differently_named_slice_port() -> None:
    by_port = {"web": frozenset({Endpoint("127.0.0.1", 8080)})}

    assert endpoints_for_port(ServicePort("http", 80), 1, by_port) == by_port["web"]
    assert endpoints_for_port(ServicePort("http", 80), 2, by_port) == frozenset()


def test_delay_line_releases_items_in_order_after_the_delay() -> None:
    line = DelayLine[str](1.0)
    line.push("remove b", now=10.0)
    line.push("add c", now=10.4)

    assert line.pop_due(10.99) == []
    assert line.pop_due(11.0) == ["remove b"]
    assert line.next_due() == 11.4
    assert line.pop_due(12.0) == ["add c"]


def test_delay_line_never_reorders_when_the_clock_steps_back() -> None:
    line = DelayLine[str](1.0)
    line.push("first", now=10.0)
    line.push("second", now=9.0)

    assert line.pop_due(10.0) == []
    assert line.pop_due(11.0) == ["first", "second"]


class Draws(random.Random):
    """A ``random`` that returns the given fractions of each range, in turn."""

    def __init__(self, *fractions: float) -> None:
        super().__init__(0)
        self.fractions = list(fractions)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.fractions.pop(0)

    def randrange(self, stop: int) -> int:  # type: ignore[override]
        return int(stop * self.fractions.pop(0))


def test_jitter_delays_each_change_by_its_draw_but_never_reorders() -> None:
    line = DelayLine[str](1.0, jitter_s=1.0, rng=Draws(0.9, 0.1, 0.5))
    line.push("remove b", now=10.0)  # due 11.9
    line.push("add c", now=10.2)  # drew 11.3: waits for "remove b"
    line.push("add d", now=12.0)  # due 13.5

    assert line.pop_due(11.89) == []
    assert line.pop_due(11.9) == ["remove b", "add c"]
    assert line.next_due() == 13.5


def test_random_balancing_picks_the_drawn_upstream() -> None:
    pool = Backends(Balancing.RANDOM, Draws(0.9, 0.0, 0.5))
    pool.update(Endpoint(host, 80) for host in ("a", "b", "c"))

    picks = [pool.pick() for _ in range(3)]

    assert [p.endpoint.address for p in picks if p] == ["c", "a", "b"]


def backends(balancing: Balancing, *hosts: str) -> Backends:
    result = Backends(balancing)
    result.update(Endpoint(host, 80) for host in hosts)
    return result


@pytest.mark.parametrize("balancing", [Balancing.LEAST_REQUEST, Balancing.ROUND_ROBIN])
def test_idle_upstreams_are_picked_in_turn(balancing: Balancing) -> None:
    pool = backends(balancing, "a", "b", "c")

    picks = [pool.pick() for _ in range(6)]

    assert [p.endpoint.address for p in picks if p] == ["a", "b", "c", "a", "b", "c"]


def test_least_request_skips_a_busy_upstream() -> None:
    pool = backends(Balancing.LEAST_REQUEST, "a", "b")
    busy = pool.pick()
    assert busy is not None
    busy.active = 5

    picks = [pool.pick() for _ in range(4)]

    assert [p.endpoint.address for p in picks if p] == ["b", "b", "b", "b"]


def test_no_endpoints_means_no_pick_and_updates_keep_surviving_upstreams() -> None:
    pool = backends(Balancing.ROUND_ROBIN)
    assert pool.pick() is None

    pool.update([Endpoint("a", 80), Endpoint("b", 80)])
    kept = pool.upstreams[0]
    pool.update([Endpoint("a", 80)])

    assert pool.upstreams == [kept]
