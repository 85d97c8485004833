"""PodNetwork: random loopback /24s, round-robin allocation, reuse, exhaustion."""

from __future__ import annotations

import ipaddress
import random

import pytest

from slagate.errors import ConfigError, PodNetworkExhausted
from slagate.sandbox.kubelet import PodNetwork


def test_random_networks_are_loopback_24s_with_second_octet_100_to_250() -> None:
    rng = random.Random(7)

    networks = [PodNetwork.random(rng).network for _ in range(200)]

    assert all(
        n.prefixlen == 24 and n.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")) for n in networks
    )
    assert {int(str(n.network_address).split(".")[1]) for n in networks} <= set(range(100, 251))
    assert len(set(networks)) > 150


def test_allocates_in_order_from_dot_one() -> None:
    network = PodNetwork("127.180.7.0/24")

    assert [network.allocate() for _ in range(3)] == ["127.180.7.1", "127.180.7.2", "127.180.7.3"]
    assert network.allocated == {"127.180.7.1", "127.180.7.2", "127.180.7.3"}


def test_released_address_is_reused_only_after_the_others() -> None:
    network = PodNetwork("127.180.7.0/24")
    first = network.allocate()
    network.release(first)

    following = [network.allocate() for _ in range(253)]

    assert first not in following
    assert network.allocate() == first


def test_exhaustion_then_a_release_frees_one() -> None:
    network = PodNetwork("127.180.7.0/24")
    for _ in range(254):
        network.allocate()

    with pytest.raises(PodNetworkExhausted, match=r"127\.180\.7\.0/24"):
        network.allocate()
    network.release("127.180.7.99")
    assert network.allocate() == "127.180.7.99"


@pytest.mark.parametrize("network", ["10.0.0.0/24", "127.180.0.0/16", "not-a-network"])
def test_rejects_networks_that_are_not_loopback_24s(network: str) -> None:
    with pytest.raises(ConfigError, match="pod network"):
        PodNetwork(network)
