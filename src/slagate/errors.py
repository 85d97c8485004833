"""The slagate exception tree and the exit codes the command line maps it to.

Every error slagate raises on purpose is defined here and derives from ``SlagateError``;
third-party errors are wrapped where they cross into slagate (``raise ... from e``), so a
caller never needs to catch a library's own types. Only the CLI turns them into exit
codes: every ``SlagateError`` that ends a command is exit 2 (could not run). A failed or
aborted run is not an error: it is a verdict, exit 1 or 3.

    SlagateError
    ├── ConfigError                  a bad scenario file, option, setting or manifest
    │   ├── ScenarioError            with file, line and field for every problem
    │   ├── FieldProblem             one problem at a field path, raised during validation
    │   ├── YamlProblem              a YAML file that cannot be read: its line and what is wrong
    │   └── ExtraNotInstalled        an optional part used without its packages (slagate[NAME])
    ├── PreflightError               target or cluster not usable: nothing was sent
    ├── LoadError                    the load generator could not start or died
    ├── TimelineError                a run folder or one of its files is missing or unreadable
    ├── KubernetesError              the cluster API refused or failed a request
    │   ├── ResourceExpired          410 Gone: list again, then watch from there
    │   └── RolloutError             a rollout wait ended without the rollout settling
    │       ├── RolloutTimeout       not complete and settled before its deadline
    │       ├── RolloutFailed        the Deployment reports ProgressDeadlineExceeded
    │       └── RolloutStopped       the wait was interrupted (the run is stopping)
    ├── PrometheusError              Prometheus unreachable, or it failed a request
    │   └── QueryRejected            Prometheus refused a query (bad PromQL): names it
    ├── SandboxError                 the embedded cluster could not start, stop or answer
    │   ├── ApiError                 a request the sandbox API refuses, as a Kubernetes Status
    │   │   ├── BadRequest           400 malformed JSON, patch, selector or parameter
    │   │   ├── Forbidden            403 RBAC refused the identity (upstream wording)
    │   │   ├── NotFound             404 unknown resource type or object
    │   │   ├── MethodNotAllowed     405 verb not served on this path
    │   │   ├── Conflict             409 stale resourceVersion
    │   │   ├── AlreadyExists        409 create of an existing name
    │   │   ├── Expired              410 watch from a resourceVersion no longer kept
    │   │   ├── UnsupportedMediaType 415 unknown PATCH content type
    │   │   ├── Invalid              422 rejected by validation; names every field
    │   │   ├── PatchFailed          422 a well-formed patch that cannot apply
    │   │   ├── TooManyRequests      429 an eviction a PodDisruptionBudget disallows
    │   │   └── InternalError        500 a sandbox bug, answered instead of crashing
    │   ├── ContainerStartError      a container cannot start (shown as its waiting reason)
    │   ├── PodNetworkExhausted      no pod address left; the pod waits for one
    │   └── ProxyError               the service proxy answers a request itself
    │       ├── ProxyRefused         the client's request cannot be forwarded (4xx/5xx)
    │       ├── UpstreamFailed       no response head from any upstream (502/503/504)
    │       └── UpstreamBroken       the upstream broke mid-message or is not HTTP/1.x
    └── ShopError                    the reference shop's business outcomes
        ├── ShopNotFound             -> 404
        │   ├── UnknownProduct
        │   └── UnknownOrder
        ├── ShopConflict             -> 409
        │   ├── InsufficientStock    a reservation would oversell
        │   └── ReservationConflict  a reservation id reused for something else
        ├── ProductServiceError      -> 502: the product service answered wrongly
        │   └── ProductServiceUnavailable -> 503: not reachable in time
        ├── DatabaseUnavailable      -> 503: the database server cannot be reached
        └── ShopStartError           a local service process did not become ready

The sandbox's ``ApiError`` names are Kubernetes' own Status reasons; the store raises them
too, so in-process controllers catch the same ``Conflict`` an HTTP client sees. How each
branch is shown on the wire (a Status body, a proxy's local response, an HTTP status of
the shop) is decided where it is served, not here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict


class ExitCode(enum.IntEnum):
    """What ``slagate run``, ``slagate check``, the pytest gate and plain ``locust -f
    --scenario`` exit with. A launch error never looks like an SLA verdict."""

    PASSED = 0
    """Every SLA passed."""

    FAILED = 1
    """An SLA failed or had no data (no data is never a pass), or a safety stop fired."""

    COULD_NOT_RUN = 2
    """Invalid input, preflight refused, or the load generator failed: nothing to judge."""

    ABORTED = 3
    """Stopped from outside (signal, the scenario's abort rule): what was recorded is
    judged, but the verdicts prove nothing either way."""

    @property
    def outcome(self) -> str:
        """How the terminal names it: ``PASS``, ``FAIL``, ``COULD NOT RUN``, ``ABORTED``."""
        return {0: "PASS", 1: "FAIL", 2: "COULD NOT RUN", 3: "ABORTED"}[self.value]


class SlagateError(Exception):
    """Root of every error slagate raises on purpose."""


# --- input and run folders -------------------------------------------------------------------


class ConfigError(SlagateError):
    """A user-supplied setting is invalid; the message names it and what to do."""


class ScenarioError(ConfigError):
    """A scenario file is invalid.

    ``problems`` lists one human-readable line per problem, each naming the file, the line
    (where known), the field and what is expected.
    """

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid scenario {path}:\n{lines}")


class FieldProblem(ConfigError, ValueError):
    """A scenario's own rule broken at ``loc`` (e.g. ``("slas", 2, "window")``).

    Raised inside validation: being a ``ValueError``, pydantic collects it like any field
    error, and the loader reads ``loc`` to name the field and its line in the file.
    """

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message


class YamlProblem(ConfigError):
    """A YAML file (a scenario, a manifest) that is no readable YAML: not text, malformed,
    a value its tag cannot hold. ``line`` (1-based) where known; the reader that caught it
    names the file."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem if line is None else f"line {line}: {problem}")
        self.line = line
        self.problem = problem


class ExtraNotInstalled(ConfigError):
    """The shop or the sandbox was asked for on an install without ``slagate[sandbox]``;
    the message names the missing packages and the pip command."""


class PreflightError(SlagateError):
    """A check before any load failed: nothing was sent to the target."""


class LoadError(SlagateError):
    """The load generator could not start or stopped unexpectedly."""


class TimelineError(SlagateError):
    """A run folder or one of its files is missing or unreadable."""


# --- Kubernetes (the gate's client side) -----------------------------------------------------


class KubernetesError(SlagateError):
    """The Kubernetes API refused or failed a request."""


class ResourceExpired(KubernetesError):
    """410 Gone: the resourceVersion is older than the server's history; list again."""


class RolloutError(KubernetesError):
    """The wait ended without the rollout settling."""


class RolloutTimeout(RolloutError):
    """The rollout did not complete or settle before its deadline."""


class RolloutFailed(RolloutError):
    """The Deployment reports ProgressDeadlineExceeded."""


class RolloutStopped(RolloutError):
    """The wait was interrupted (the run is stopping)."""


# --- Prometheus --------------------------------------------------------------------------


class PrometheusError(SlagateError):
    """Prometheus could not be reached, or answered a request with an error."""


class QueryRejected(PrometheusError):
    """Prometheus refused a query; the message holds the query and Prometheus' reason."""


# --- the sandbox -----------------------------------------------------------------------------


class SandboxError(SlagateError):
    """The embedded sandbox cluster could not start, stop or answer."""


class StatusCause(TypedDict):
    """One cause of a Kubernetes Status (``details.causes[]``)."""

    reason: str
    message: str
    field: str


class StatusDetails(TypedDict, total=False):
    """``details`` of a Kubernetes Status: the object concerned and the causes."""

    name: str
    group: str
    kind: str
    uid: str
    causes: list[StatusCause]
    retryAfterSeconds: int


@dataclass(frozen=True)
class FieldCause:
    """One validation failure: the JSON path of the field, and what is wrong with it."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"

    def to_json(self) -> StatusCause:
        return {"reason": self.reason, "message": self.message, "field": self.field}


class ApiError(SandboxError):
    """A request the sandbox API refuses: HTTP ``code``, Status ``reason`` and details."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, details: StatusDetails | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: StatusDetails = details or {}


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class Conflict(ApiError):
    code = 409
    reason = "Conflict"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"


class Expired(ApiError):
    code = 410
    reason = "Expired"


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(ApiError):
    """Validation failed; ``causes`` name each offending field (``spec.selector``)."""

    code = 422
    reason = "Invalid"

    def __init__(self, kind: str, name: str, causes: Sequence[FieldCause], group: str = "") -> None:
        qualified = f"{kind}.{group}" if group else kind
        summary = ", ".join(f"{c.field}: {c.message}" for c in causes)
        if len(causes) > 1:
            summary = f"[{summary}]"
        details: StatusDetails = {"name": name, "group": group, "kind": kind}
        details["causes"] = [c.to_json() for c in causes]
        super().__init__(f'{qualified} "{name}" is invalid: {summary}', details)
        self.causes = list(causes)


class PatchFailed(ApiError):
    """A well-formed patch whose operation cannot apply (missing path, failed test)."""

    code = 422
    reason = "Invalid"


class TooManyRequests(ApiError):
    """429: an eviction that would violate a PodDisruptionBudget (retry later)."""

    code = 429
    reason = "TooManyRequests"


class InternalError(ApiError):
    code = 500
    reason = "InternalError"


class ContainerStartError(SandboxError):
    """A container cannot be started. ``reason`` is the waiting reason its status shows
    (``ImageNotMapped``, ``CreateContainerConfigError``), the message says why. The
    kubelet turns it into what a real kubelet shows: a waiting reason and an Event, whose
    reason is ``event_reason`` (``Failed``, or ``FailedMount`` for a volume)."""

    def __init__(self, reason: str, message: str, event_reason: str = "Failed") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.event_reason = event_reason

    @property
    def event_message(self) -> str:
        """The Event's text: upstream prefixes a failed start's with its reason."""
        if self.event_reason == "Failed":
            return f"Error: {self.reason}: {self.message}"
        return self.message


class PodNetworkExhausted(SandboxError):
    """Every address of the pod network is taken; the pod waits for one to be released."""


class ProxyError(SandboxError):
    """The service proxy answers a request itself instead of relaying an upstream's answer.

    ``status`` and ``reason`` are the HTTP status line it answers with (0 where the
    connection is closed without an answer)."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


class ProxyRefused(ProxyError):
    """A client request the proxy refuses to forward (malformed, too large): answered
    with ``status`` and the connection closed."""


class UpstreamFailed(ProxyError):
    """The exchange with the upstream failed before a response head: answered locally
    (connection refused or reset, no healthy upstream, timeout).

    ``flags`` are Envoy's response flags for the failure (``UH`` no healthy upstream,
    ``UF`` connect failure, ``UC`` connection terminated, ``UT`` timeout, ``UPE``
    protocol error, ``URX`` retries exhausted; comma-separated), the ``response_flags``
    label of the proxy's Istio metrics."""

    def __init__(self, status: int, reason: str, detail: str, flags: str = "") -> None:
        super().__init__(status, reason, detail)
        self.flags = flags


class UpstreamBroken(ProxyError):
    """The upstream answered something that is not HTTP/1.x, or broke mid-message."""

    def __init__(self, detail: str) -> None:
        super().__init__(502, "Bad Gateway", detail)


# --- the reference shop ----------------------------------------------------------------------


class ShopError(SlagateError):
    """Root of the reference shop's errors. The HTTP mapping lives in the apps
    (``slagate.shop.apps.ERROR_STATUSES``): the stores raise these without knowing they
    are served over HTTP."""


class ShopNotFound(ShopError):
    """The addressed product or order does not exist."""


class UnknownProduct(ShopNotFound):
    """No product has this id."""

    def __init__(self, product_id: int) -> None:
        self.product_id = product_id
        super().__init__(f"unknown product {product_id}")


class UnknownOrder(ShopNotFound):
    """No order has this id."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"unknown order {order_id!r}")


class ShopConflict(ShopError):
    """The request is valid but contradicts the stored state."""


class InsufficientStock(ShopConflict):
    """Reserving would take the stock below zero; nothing was reserved."""

    def __init__(self, product_id: int, requested: int, available: int) -> None:
        self.product_id = product_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"insufficient stock for product {product_id}: "
            f"{requested} requested, {available} available"
        )


class ReservationConflict(ShopConflict):
    """A reservation id is unknown, or was used for another product or quantity."""


class ProductServiceError(ShopError):
    """The product service answered the order service with an unexpected status."""


class ProductServiceUnavailable(ProductServiceError):
    """The product service could not be reached or did not answer in time."""


class DatabaseUnavailable(ShopError):
    """The shop's database server could not be reached or dropped the connection (a
    restart, a network cut). The call failed like a dropped request: a write whose commit
    was cut off may or may not have been applied, so clients retry (reservations are
    idempotent). The next call connects again."""


class ShopStartError(ShopError):
    """A shop process exited or stayed unready; the message carries its log tail."""
