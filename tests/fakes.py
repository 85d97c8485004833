"""Fakes shared by the tests: one clock, one free port. Import them, do not copy them.

Real parts are used wherever a user would have them (servers on loopback, processes,
Locust); these stand in only for what a unit test must control: time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from slagate.shop.launching import free_port

__all__ = ["START_S", "FakeClock", "free_port"]

START_S = 1_700_000_000.0
"""A round epoch second (2023-11-14T22:13:20Z) tests start their clocks at."""


class FakeClock:
    """A clock in seconds that moves only when told, or by ``step_s`` on every read.

    Call it for the time as a float (``time.time``/``time.monotonic`` style); ``utc``
    gives the same instant as an aware ``datetime`` for clocks of that type.
    """

    def __init__(self, now_s: float = START_S, step_s: float = 0.0) -> None:
        self.now_s = now_s
        self.step_s = step_s
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now_s += self.step_s
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now_s, UTC)
