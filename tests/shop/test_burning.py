from __future__ import annotations

from slagate.shop.burning import burn_cpu
from tests.fakes import FakeClock


def test_burns_until_the_clock_advanced_the_requested_time() -> None:
    clock = FakeClock(100.0, step_s=0.001)

    burn_cpu(5, clock)

    assert 100.005 <= clock.now_s <= 100.007


def test_zero_burns_nothing() -> None:
    clock = FakeClock(100.0, step_s=0.001)

    burn_cpu(0, clock)

    assert clock.reads == 0
