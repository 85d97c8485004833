from __future__ import annotations

from slagate.shop.burning import burn_cpu


class SteppingClock:
    """A CPU clock that advances 1 ms each time it is read."""

    def __init__(self) -> None:
        self.now_s = 100.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now_s += 0.001
        return self.now_s


def test_burns_until_the_clock_advanced_the_requested_time() -> None:
    clock = SteppingClock()

    burn_cpu(5, clock)

    assert 100.005 <= clock.now_s <= 100.007


def test_zero_burns_nothing() -> None:
    clock = SteppingClock()

    burn_cpu(0, clock)

    assert clock.reads == 0
