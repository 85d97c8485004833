"""Fixtures of the proxy's tests: two pods and a proxy on a loop thread (``harness``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from slagate.sandbox.proxy import ServiceProxy
from slagate.sandbox.proxy.upstreams import Balancing
from tests.sandbox.proxy.harness import DELAY_S, Harness, LoopThread, Upstream


@pytest.fixture
def upstreams() -> Iterator[tuple[Upstream, Upstream]]:
    a, b = Upstream("a"), Upstream("b")
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def harness() -> Iterator[Harness]:
    loop = LoopThread()
    proxy = ServiceProxy(DELAY_S, balancing=Balancing.ROUND_ROBIN)
    try:
        yield Harness(loop, proxy)
    finally:
        loop.run(proxy.close)
        loop.close()
