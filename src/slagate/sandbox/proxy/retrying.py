"""The mesh's retry decision: which failed attempts an Istio sidecar sends again (pure).

Without a VirtualService ``retries`` block, Istio programs every sidecar route with the
same policy (docs/sandbox.md, "The istio data plane"): at most 2 retries, on
``connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`` with 503
as the one retriable status code, each retry to another endpoint than those already
tried when there is one (Envoy's ``previous_hosts`` predicate). Over HTTP/1.1 to the
shop, ``refused-stream`` (an HTTP/2 reset) and ``unavailable`` / ``cancelled`` (gRPC
statuses) never occur, so what is retried is a connection the endpoint refused or did
not accept in time (``UF``) and an upstream's own 503. A 500 is not retried, nor a
connection reset after the request went out (``UC``), nor a timeout (``UT``). Envoy
retries any method, POST included: the policy, not the proxy, decides idempotency.
"""

from __future__ import annotations

from dataclasses import dataclass

CONNECT_FAILURE = "connect-failure"
RETRIABLE_STATUS_CODES = "retriable-status-codes"
ISTIO_DEFAULT_RETRY_ON = (
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
    "retriable-status-codes",
)


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts``: retries after the first try (Istio's ``attempts``); ``retry_on``:
    Envoy's ``retry_on`` conditions; ``retriable_codes``: the statuses
    ``retriable-status-codes`` names."""

    attempts: int = 2
    retry_on: frozenset[str] = frozenset(ISTIO_DEFAULT_RETRY_ON)
    retriable_codes: frozenset[int] = frozenset({503})

    def retries_failure(self, flags: str, retries_done: int) -> bool:
        """Whether an attempt the proxy failed itself (Envoy's response ``flags``) is
        sent again, after ``retries_done`` retries."""
        if retries_done >= self.attempts:
            return False
        return CONNECT_FAILURE in self.retry_on and flags.split(",")[0] == "UF"

    def retries_status(self, status: int, retries_done: int) -> bool:
        """Whether an upstream's response ``status`` is discarded and the request sent
        again, after ``retries_done`` retries."""
        if retries_done >= self.attempts:
            return False
        return RETRIABLE_STATUS_CODES in self.retry_on and status in self.retriable_codes


ISTIO_DEFAULT = RetryPolicy()
"""What every Istio sidecar route does without a VirtualService ``retries`` block."""
