"""The ``kube-proxy`` data plane against real HTTP servers on loopback (no cluster).

What a keep-alive client sees through kube-proxy's DNAT rules: its connection is tied to
one pod for its life (endpoint changes only steer new connections), the pod closing its
end closes the client's, and a connection opened while nothing is routed is reset.
"""

from __future__ import annotations

import http.client
import random
import time
from collections.abc import Iterator

import pytest

from slagate.sandbox.proxy import ServiceProxy
from slagate.sandbox.settings import DataPlane
from tests.sandbox.proxy.harness import DELAY_S, Harness, LoopThread, Upstream, get


@pytest.fixture
def kube_proxy() -> Iterator[Harness]:
    loop = LoopThread()
    proxy = ServiceProxy(DELAY_S, data_plane=DataPlane.KUBE_PROXY, rng=random.Random(7))
    try:
        yield Harness(loop, proxy)
    finally:
        loop.run(proxy.close)
        loop.close()


def test_a_keep_alive_connection_stays_on_its_pod_while_new_connections_spread(
    kube_proxy: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    kube_proxy.route(*upstreams)
    kube_proxy.wait_routed(*upstreams)
    kept = kube_proxy.client()

    on_kept = {get(kept)[1] for _ in range(10)}
    fresh = []
    for _ in range(20):
        client = kube_proxy.client()
        fresh.append(get(client)[1])
        client.close()
    kept.close()

    assert len(on_kept) == 1
    assert set(fresh) == {b"a", b"b"}  # random picks: 20 draws miss one pod with p = 2e-6


def test_an_added_pod_gets_new_connections_only(
    kube_proxy: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    kube_proxy.route(a)
    kube_proxy.wait_routed(a)
    kept = kube_proxy.client()
    get(kept)

    kube_proxy.route(a, b)
    kube_proxy.wait_routed(a, b)
    on_kept = [get(kept)[1] for _ in range(10)]
    fresh = []
    for _ in range(20):
        client = kube_proxy.client()
        fresh.append(get(client)[1])
        client.close()
    kept.close()

    assert on_kept == [b"a"] * 10
    assert b"b" in fresh


def test_a_removed_pod_keeps_its_established_connection(
    kube_proxy: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    kube_proxy.route(b)
    kube_proxy.wait_routed(b)
    kept = kube_proxy.client()
    get(kept)

    kube_proxy.route(a)
    kube_proxy.wait_routed(a)
    on_kept = [get(kept)[1] for _ in range(3)]
    fresh = kube_proxy.client()
    on_fresh = get(fresh)[1]
    kept.close()
    fresh.close()

    assert on_kept == [b"b"] * 3
    assert on_fresh == b"a"


def test_the_pod_closing_its_connection_closes_the_clients(
    kube_proxy: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    kube_proxy.route(upstreams[0])
    kube_proxy.wait_routed(upstreams[0])
    client = kube_proxy.client()

    answer = get(client, "/bye")
    client.sock.settimeout(5)
    after = client.sock.recv(1)  # b"": the proxy closed the client's side too
    client.close()

    assert answer == (200, b"bye")
    assert after == b""


def test_a_connection_while_nothing_is_routed_is_reset_not_answered(
    kube_proxy: Harness,
) -> None:
    client = kube_proxy.client()

    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        get(client)
    client.close()

    assert kube_proxy.proxy.stats.reset_connections == 1
    assert kube_proxy.proxy.stats.requests == 0


def test_a_connection_to_a_pod_that_stopped_listening_is_reset(kube_proxy: Harness) -> None:
    kube_proxy.route_to_a_closed_port()
    client = kube_proxy.client()

    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        get(client)
    client.close()

    assert kube_proxy.proxy.stats.reset_connections == 1


def test_endpoint_changes_wait_the_delay_plus_jitter(
    upstreams: tuple[Upstream, Upstream],
) -> None:
    loop = LoopThread()
    jitter_s = 0.4
    proxy = ServiceProxy(
        DELAY_S, data_plane=DataPlane.KUBE_PROXY, jitter_s=jitter_s, rng=random.Random(3)
    )
    try:
        harness = Harness(loop, proxy)
        lags = []
        for upstream in (*upstreams, *upstreams):
            pushed = harness.route(upstream)
            harness.wait_routed(upstream)
            lags.append(time.monotonic() - pushed)
    finally:
        loop.run(proxy.close)
        loop.close()

    draws = [random.Random(3).uniform(0, jitter_s)]  # the first draw of the same seed
    assert all(DELAY_S <= lag < DELAY_S + jitter_s + 0.3 for lag in lags)
    assert lags[0] >= DELAY_S + draws[0] - 0.01
