"""The mesh's retry decision: which failed attempts an Istio sidecar sends again (pure).

A VirtualService's ``retries`` replaces the default below (``virtualservices``); its
``retryOn`` conditions are Envoy's: ``5xx`` (any 5xx answer, and any failure before
one: refused, reset, timed out), ``gateway-error`` (502, 503, 504, and the same
failures), ``reset`` (failures before an answer: refused, reset, per-try timeout),
``connect-failure`` (refused or not accepted), ``retriable-4xx`` (409),
``retriable-status-codes`` (the listed codes; Istio turns a bare ``503`` in
``retryOn`` into one).

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
_ANY_FAILURE = frozenset({"5xx", "gateway-error", "reset"})
_FAILURE_FLAGS = frozenset({"UF", "UC", "UT", "UPE"})
GATEWAY_STATUSES = frozenset({502, 503, 504})
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
    ``retriable-status-codes`` names; ``per_try_timeout_s``: how long one attempt may
    wait for its response head (None: only the route's timeout applies)."""

    attempts: int = 2
    retry_on: frozenset[str] = frozenset(ISTIO_DEFAULT_RETRY_ON)
    retriable_codes: frozenset[int] = frozenset({503})
    per_try_timeout_s: float | None = None

    def retries_failure(self, flags: str, retries_done: int) -> bool:
        """Whether an attempt the proxy failed itself (Envoy's response ``flags``: ``UF``
        refused, ``UC`` reset, ``UT`` timed out, ``UPE`` not HTTP) is sent again, after
        ``retries_done`` retries."""
        if retries_done >= self.attempts:
            return False
        first = flags.split(",")[0]
        if self.retry_on & _ANY_FAILURE:
            return first in _FAILURE_FLAGS
        return CONNECT_FAILURE in self.retry_on and first == "UF"

    def retries_status(self, status: int, retries_done: int) -> bool:
        """Whether an upstream's response ``status`` is discarded and the request sent
        again, after ``retries_done`` retries."""
        if retries_done >= self.attempts:
            return False
        on = self.retry_on
        return (
            ("5xx" in on and status >= 500)
            or ("gateway-error" in on and status in GATEWAY_STATUSES)
            or ("retriable-4xx" in on and status == 409)
            or (RETRIABLE_STATUS_CODES in on and status in self.retriable_codes)
        )


ISTIO_DEFAULT = RetryPolicy()
"""What every Istio sidecar route does without a VirtualService ``retries`` block."""
