"""VirtualServices (``networking.istio.io``) -> the route a Service's requests take (pure).

Modelled: a VirtualService whose ``hosts`` name Services (``meshconfig``) and whose first
``http`` route has no ``match`` (it then takes every request, as Istio's first matching
route does) and routes to the same host, one destination. Of that route the proxy
applies:

- ``fault.delay`` (``fixedDelay``, ``percentage.value``) and ``fault.abort``
  (``httpStatus``, ``percentage.value``): Envoy's fault filter runs before the router,
  so a request is delayed first, then maybe aborted with the status (body
  ``fault filter abort``, flag ``FI``; a delay is flagged ``DI``), never retried and
  never counted by outlier detection. Without ``percentage`` no request is faulted
  (Istio translates a missing percentage to 0).
- ``retries``: ``attempts`` (0 or none: no retries), ``perTryTimeout``, ``retryOn``
  (Envoy's conditions, ``retrying``; bare status codes become retriable status codes;
  without ``retryOn``, Istio's default conditions and 503).
- ``timeout``: the whole exchange, retries included, until the response head (``0s``:
  none, Istio's default); on expiry 504 ``upstream request timeout`` (``UT``).

Anything else is named in the problems (the proxy logs them): a ``match`` on the first
route, another destination, subsets or weights, ``mirror``, ``rewrite``,
``redirect``, ... A VirtualService whose first route is not modelled is ignored as a
whole, and says so; one with fields beyond the list keeps what is modelled and names
the rest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from slagate.sandbox.objects.bodies import RawObject, mapping_at
from slagate.sandbox.proxy.meshconfig import MeshConfig, Read, created, service_of, where
from slagate.sandbox.proxy.retrying import ISTIO_DEFAULT, RETRIABLE_STATUS_CODES, RetryPolicy
from slagate.scenario.base import parse_duration

_READ_SPEC = ("hosts", "http")
_READ_ROUTE = ("route", "fault", "retries", "timeout", "name")
_READ_RETRIES = ("attempts", "perTryTimeout", "retryOn")


@dataclass(frozen=True)
class Fault:
    """``fault``: a delay of ``delay_s`` for ``delay_percent`` % of requests, an answer
    ``abort_status`` for ``abort_percent`` %."""

    delay_s: float = 0.0
    delay_percent: float = 0.0
    abort_status: int | None = None
    abort_percent: float = 0.0

    def draw(self, rng: random.Random) -> tuple[float, int | None]:
        """For one request: the seconds it waits, and the status it is aborted with (None
        to forward it). One draw per configured fault, delay first."""
        delay = self.delay_s if self.delay_s and _hit(rng, self.delay_percent) else 0.0
        abort = self.abort_status
        return delay, abort if abort is not None and _hit(rng, self.abort_percent) else None


def _hit(rng: random.Random, percent: float) -> bool:
    return rng.random() * 100.0 < percent


@dataclass(frozen=True)
class Route:
    """What the mesh does with a Service's requests (no VirtualService: the defaults)."""

    fault: Fault | None = None
    retry: RetryPolicy | None = ISTIO_DEFAULT
    """None: no retries (``attempts: 0``)."""
    timeout_s: float | None = None


DEFAULT_ROUTE = Route()


def read_virtual_service(obj: RawObject) -> Read[Route]:
    metadata = mapping_at(obj, "metadata")
    here = where("VirtualService", obj)
    namespace = str(metadata.get("namespace") or "default")
    spec = mapping_at(obj, "spec")
    problems = [f"{here}: spec.{key} is not modelled" for key in spec if key not in _READ_SPEC]
    listed = spec.get("hosts")
    hosts: list[Any] = listed if isinstance(listed, list) else []
    services = tuple(s for h in hosts if (s := service_of(h, namespace)) is not None)
    problems += [
        f"{here}: spec.hosts {h!r} names no Service; ignored"
        for h in hosts
        if service_of(h, namespace) is None
    ]
    http = spec.get("http")
    first = http[0] if isinstance(http, list) and http and isinstance(http[0], dict) else None
    refusal = _refusal(first, services, namespace)
    if first is None or refusal:
        return Read((), created(obj), DEFAULT_ROUTE, (*problems, f"{here}: {refusal}"))
    route, unread = _route(first)
    problems += [f"{here}: spec.http[0].{text}" for text in unread]
    return Read(services, created(obj), route, tuple(problems))


def _refusal(first: dict[str, Any] | None, services: tuple[Any, ...], namespace: str) -> str:
    """Why the VirtualService cannot be applied as a whole ("" if it can)."""
    ignored = "; the VirtualService is ignored"
    if first is None:
        return f"no spec.http route{ignored}"
    if "match" in first:
        return f"spec.http[0].match is not modelled{ignored}"
    destinations = first.get("route")
    if not isinstance(destinations, list) or len(destinations) != 1:
        return f"spec.http[0].route must have one destination (weights are not modelled){ignored}"
    destination = mapping_at(destinations[0], "destination")
    target = service_of(destination.get("host"), namespace)
    if target not in services or "subset" in destination:
        return f"spec.http[0].route[0].destination is not its own host (not modelled){ignored}"
    return ""


def _route(first: dict[str, Any]) -> tuple[Route, list[str]]:
    problems = [f"{key} is not modelled" for key in first if key not in _READ_ROUTE]
    fault = None
    if "fault" in first:
        fault, unread = _fault(mapping_at(first, "fault"))
        problems += unread
    retry: RetryPolicy | None = ISTIO_DEFAULT
    if "retries" in first:
        retry, unread = _retries(mapping_at(first, "retries"))
        problems += unread
    timeout = None
    if "timeout" in first:
        try:
            timeout = parse_duration(first["timeout"]) or None
        except ValueError as error:
            problems.append(f"timeout: {error} (no timeout used)")
    return Route(fault, retry, timeout), problems


def _fault(fault: dict[str, Any]) -> tuple[Fault, list[str]]:
    problems = [f"fault.{key} is not modelled" for key in fault if key not in ("delay", "abort")]
    delay, abort = mapping_at(fault, "delay"), mapping_at(fault, "abort")
    values: dict[str, Any] = {}
    for key, read in (
        ("delay_s", lambda: parse_duration(delay["fixedDelay"]) if delay else 0.0),
        ("delay_percent", lambda: _percent(delay)),
        ("abort_status", lambda: _status(abort["httpStatus"]) if abort else None),
        ("abort_percent", lambda: _percent(abort)),
    ):
        try:
            values[key] = read()
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"fault.{key.split('_')[0]}: unreadable ({error}); not applied")
    problems += [
        f"fault.{name}.{key} is not modelled"
        for name, part, known in (
            ("delay", delay, ("fixedDelay", "percentage")),
            ("abort", abort, ("httpStatus", "percentage")),
        )
        for key in part
        if key not in known
    ]
    return Fault(**values), problems


def _percent(part: dict[str, Any]) -> float:
    value = mapping_at(part, "percentage").get("value", 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValueError(f"percentage.value must be 0-100, got {value!r}")
    return float(value)


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 200 <= value <= 599:
        raise ValueError(f"httpStatus must be 200-599, got {value!r}")
    return value


def _retries(retries: dict[str, Any]) -> tuple[RetryPolicy | None, list[str]]:
    problems = [f"retries.{key} is not modelled" for key in retries if key not in _READ_RETRIES]
    attempts = retries.get("attempts", 0)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts <= 0:
        return None, problems
    policy = RetryPolicy(attempts=attempts)
    if "perTryTimeout" in retries:
        try:
            per_try = parse_duration(retries["perTryTimeout"]) or None
            policy = RetryPolicy(policy.attempts, policy.retry_on, policy.retriable_codes, per_try)
        except ValueError as error:
            problems.append(f"retries.perTryTimeout: {error} (none used)")
    if isinstance(retries.get("retryOn"), str) and retries["retryOn"].strip():
        conditions, codes = _retry_on(retries["retryOn"])
        policy = RetryPolicy(policy.attempts, conditions, codes, policy.per_try_timeout_s)
    return policy, problems


def _retry_on(text: str) -> tuple[frozenset[str], frozenset[int]]:
    """Istio's ``retryOn``: Envoy conditions, and bare codes as retriable status codes."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    codes = frozenset(int(item) for item in items if item.isdigit())
    conditions = {item for item in items if not item.isdigit()}
    if codes:
        conditions.add(RETRIABLE_STATUS_CODES)
    return frozenset(conditions), codes


def virtual_services() -> MeshConfig[Route]:
    """The VirtualServices the proxy knows; ``for_service`` gives a Service's route."""
    return MeshConfig(read_virtual_service)
