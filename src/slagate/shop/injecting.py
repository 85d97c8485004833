"""Injected errors: a share of business requests fails on purpose, deterministically.

``--error-ratio R`` makes a replica answer ``floor(n * R)`` of its first ``n`` business
requests with 500, spread as evenly as they can be: request ``n`` fails exactly when
``floor(n * R)`` grows (R 0.1: the 10th, 20th, ...; R 0.25: every 4th; R 1: all). No
random numbers, so a test knows the count, and the ratio holds over any stretch of
requests, not just on average. The ratio is read as the decimal it was written as
(``Fraction("0.29")``), so float rounding never shifts a failure.

The status is 500, not 503: 503 is what the data plane answers by itself (no healthy
upstream, a refused connection) and what the shop answers while warming up; a 500 with
its own message keeps injected failures apart from both in any breakdown by status.
"""

from __future__ import annotations

from fractions import Fraction

INJECTED_STATUS = 500


class ErrorInjection:
    """Which requests fail, counted per process (each replica has its own count)."""

    def __init__(self, ratio: float) -> None:
        """``ratio`` within 0..1 (``AppSettings`` checks it)."""
        self.ratio = ratio
        self._exact = Fraction(str(ratio))
        self._requests = 0

    def next_fails(self) -> bool:
        """Count one more request; True if it must fail."""
        self._requests += 1
        return self._failed_by(self._requests) > self._failed_by(self._requests - 1)

    def _failed_by(self, requests: int) -> int:
        return int(requests * self._exact)

    @property
    def message(self) -> str:
        return f"injected error (--error-ratio {self.ratio:g})"
