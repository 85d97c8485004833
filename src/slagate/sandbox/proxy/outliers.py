"""Outlier detection: a DestinationRule's ``outlierDetection``, as Envoy applies it (pure).

Envoy keeps, per endpoint of an upstream cluster, how many 5xx answers came back in a
row (``consecutive5xxErrors``), and how many gateway errors (502, 503, 504) in a row
(``consecutiveGatewayErrors``). Failures the proxy met itself count with the status it
answered: a refused connection as 503, a reset as 503, a timeout as 504 (Envoy maps
locally originated errors to those codes unless ``splitExternalLocalOriginErrors``).
Any other answer resets both counts. When a count reaches its threshold the endpoint
is ejected at once (not at the next sweep), unless that would make more than
``maxEjectionPercent`` of the endpoints ejected; a count that reached its threshold
fires once, until an answer resets it. Every ``interval`` a sweep returns the endpoints
whose ejection has lasted ``baseEjectionTime`` times the number of times they were
ejected (at most 300 s, Envoy's ``max_ejection_time``), and lowers that number by one
for each endpoint in service. When fewer than ``minHealthPercent`` of the endpoints are
in service, ejections are ignored and every endpoint gets traffic (Envoy's panic mode).

Defaults are Istio's when ``outlierDetection`` is present (docs/sandbox.md, "The istio
data plane"): 5 consecutive 5xx, gateway errors off, a 10 s interval, 30 s base ejection
time, at most 10 % ejected, minimum health 0 %. The clock is an argument: sweeps are
evaluated when a request arrives, at the times they were due.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from slagate.sandbox.proxy.upstreams import Endpoint
from slagate.scenario.base import parse_duration

GATEWAY_ERRORS = frozenset({502, 503, 504})
MAX_EJECTION_S = 300.0
"""Envoy's ``max_ejection_time`` default: no ejection lasts longer (unless the base does)."""
_FIELDS = {
    "consecutive5xxErrors": "consecutive_5xx",
    "consecutiveGatewayErrors": "consecutive_gateway",
    "interval": "interval_s",
    "baseEjectionTime": "base_ejection_s",
    "maxEjectionPercent": "max_ejection_percent",
    "minHealthPercent": "min_health_percent",
}
_DURATIONS = ("interval", "baseEjectionTime")


@dataclass(frozen=True)
class OutlierPolicy:
    """One DestinationRule's ``trafficPolicy.outlierDetection``; 0 disables a count."""

    consecutive_5xx: int = 5
    consecutive_gateway: int = 0
    interval_s: float = 10.0
    base_ejection_s: float = 30.0
    max_ejection_percent: float = 10.0
    min_health_percent: float = 0.0


def outlier_policy(detection: Mapping[str, Any]) -> tuple[OutlierPolicy, list[str]]:
    """The policy an ``outlierDetection`` block asks for, and what in it is not modelled
    or not readable (each named with its value; the default is used for those)."""
    values: dict[str, Any] = {}
    problems = []
    for key, value in detection.items():
        if key not in _FIELDS:
            problems.append(f"outlierDetection.{key} is not modelled (ignored)")
            continue
        try:
            values[_FIELDS[key]] = _read(key, value)
        except ValueError as error:
            problems.append(f"outlierDetection.{key}: {error} (default used)")
    return OutlierPolicy(**values), problems


def _read(key: str, value: Any) -> float:
    if key in _DURATIONS:
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValueError(f"must be a positive duration, got {value!r}")
        return seconds
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"must be a number, got {value!r}")
    if value < 0 or (key.endswith("Percent") and value > 100):
        raise ValueError(f"out of range, got {value!r}")
    return int(value) if key.startswith("consecutive") else float(value)


class _Host:
    __slots__ = ("ejected_at", "ejections", "fired", "gateway_row", "server_row")

    def __init__(self) -> None:
        self.server_row = 0
        self.gateway_row = 0
        self.fired = False
        self.ejected_at: float | None = None
        self.ejections = 0


class OutlierDetector:
    """The ejection state of one Service port's endpoints under ``policy``; ``now`` is
    the time the detector starts (its first sweep is one interval later)."""

    def __init__(self, policy: OutlierPolicy, now: float) -> None:
        self.policy = policy
        self.ejections_total = 0
        self._hosts: dict[Endpoint, _Host] = {}
        self._next_sweep = now + policy.interval_s

    def retain(self, endpoints: Iterable[Endpoint]) -> None:
        """Track exactly ``endpoints`` (new ones in service, gone ones forgotten)."""
        wanted = set(endpoints)
        self._hosts = {e: self._hosts.get(e) or _Host() for e in sorted(wanted)}

    def observe(self, endpoint: Endpoint, status: int, now: float) -> bool:
        """Count one answer of ``endpoint``; True if it was ejected by it."""
        host = self._hosts.get(endpoint)
        if host is None or host.ejected_at is not None:
            return False
        if status < 500:
            host.server_row = host.gateway_row = 0
            host.fired = False
            return False
        host.server_row += 1
        host.gateway_row = host.gateway_row + 1 if status in GATEWAY_ERRORS else 0
        policy = self.policy
        reached = (policy.consecutive_5xx and host.server_row == policy.consecutive_5xx) or (
            policy.consecutive_gateway and host.gateway_row == policy.consecutive_gateway
        )
        if not reached or host.fired:
            return False
        host.fired = True
        return self._eject(host, now)

    def _eject(self, host: _Host, now: float) -> bool:
        active = sum(1 for h in self._hosts.values() if h.ejected_at is not None)
        if 100.0 * (active + 1) / len(self._hosts) > self.policy.max_ejection_percent:
            return False
        host.ejected_at = now
        host.ejections += 1
        self.ejections_total += 1
        return True

    def sweep(self, now: float) -> bool:
        """Run the sweeps due by ``now``; True if an endpoint came back into service."""
        returned = False
        while now >= self._next_sweep:
            returned |= self._sweep_at(self._next_sweep)
            self._next_sweep += self.policy.interval_s
        return returned

    def _sweep_at(self, at: float) -> bool:
        returned = False
        for host in self._hosts.values():
            if host.ejected_at is None:
                host.ejections = max(0, host.ejections - 1)
            elif at >= host.ejected_at + self._ejection_s(host.ejections):
                host.ejected_at = None
                host.server_row = host.gateway_row = 0
                host.fired = False
                returned = True
        return returned

    def _ejection_s(self, ejections: int) -> float:
        base = self.policy.base_ejection_s
        return min(base * ejections, max(MAX_EJECTION_S, base))

    def ejected(self) -> frozenset[Endpoint]:
        """The endpoints to keep out of the balancing; none when fewer than
        ``min_health_percent`` would remain (panic: all get traffic)."""
        out = frozenset(e for e, h in self._hosts.items() if h.ejected_at is not None)
        if not out:
            return out
        healthy = 100.0 * (len(self._hosts) - len(out)) / len(self._hosts)
        return frozenset() if healthy < self.policy.min_health_percent else out

    @property
    def ejections_active(self) -> int:
        return sum(1 for h in self._hosts.values() if h.ejected_at is not None)
