"""The scheduler's fit, its FailedScheduling message and the provisioner's decision."""

from __future__ import annotations

import pytest

from slagate.sandbox.decisions.scheduling import (
    NodeUse,
    choose_node,
    fits_new_node,
    should_provision,
    unschedulable_message,
)


def test_a_pod_fits_while_its_request_and_the_bound_ones_stay_within_allocatable() -> None:
    node = NodeUse("n1", cpu_m=500, pods=110, used_cpu_m=400, used_pods=4)

    assert node.misfits(100) == ()
    assert node.misfits(101) == ("Insufficient cpu",)
    assert node.bound(100).misfits(1) == ("Insufficient cpu",)


def test_unlimited_cpu_still_counts_pods() -> None:
    node = NodeUse("n1", cpu_m=0, pods=2, used_cpu_m=10_000, used_pods=2)

    assert node.misfits(1_000_000) == ("Too many pods",)
    assert NodeUse("n1", cpu_m=0, pods=2).misfits(1_000_000) == ()


def test_the_node_with_most_cpu_left_wins_and_the_first_on_a_tie() -> None:
    nodes = [NodeUse("a", 1000, 110, 600), NodeUse("b", 1000, 110, 200), NodeUse("c", 1000, 110)]

    assert choose_node(nodes, 100) == "c"
    assert choose_node([NodeUse("a", 1000, 110), NodeUse("b", 1000, 110)], 100) == "a"
    assert choose_node(nodes, 500) == "c"
    assert choose_node(nodes[:2], 900) is None


@pytest.mark.parametrize(
    ("nodes", "request_m", "message"),
    [
        pytest.param(
            [NodeUse("a", 500, 110, 500, 5)],
            100,
            "0/1 nodes are available: 1 Insufficient cpu.",
            id="one-node-full",
        ),
        pytest.param(
            [
                NodeUse("a", 500, 110, 500, 5),
                NodeUse("b", 500, 5, 0, 5),
                NodeUse("c", 500, 1, 450, 1),
            ],
            100,
            "0/3 nodes are available: 2 Insufficient cpu, 2 Too many pods.",
            id="reasons-counted-and-sorted",
        ),
    ],
)
def test_failed_scheduling_reads_as_upstreams(
    nodes: list[NodeUse], request_m: int, message: str
) -> None:
    assert unschedulable_message(nodes, request_m) == message


def test_a_new_node_is_asked_for_only_for_pods_that_would_fit_it() -> None:
    assert fits_new_node(cpu_m=500, pods=110, request_m=500)
    assert not fits_new_node(cpu_m=500, pods=110, request_m=501)
    assert fits_new_node(cpu_m=0, pods=110, request_m=10_000)


@pytest.mark.parametrize(
    ("unschedulable", "nodes", "provisioning", "max_nodes", "provision"),
    [
        pytest.param(1, 1, False, 2, True, id="room-to-grow"),
        pytest.param(0, 1, False, 2, False, id="nothing-waits"),
        pytest.param(3, 1, True, 3, False, id="one-node-on-its-way-at-a-time"),
        pytest.param(1, 2, False, 2, False, id="at-max-nodes"),
        pytest.param(1, 1, False, 1, False, id="provisioning-off"),
    ],
)
def test_provisioning_decision(
    unschedulable: int, nodes: int, provisioning: bool, max_nodes: int, provision: bool
) -> None:
    assert should_provision(unschedulable, nodes, provisioning, max_nodes) is provision
