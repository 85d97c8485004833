"""``TargetGroups``: when a load balancer's targets get requests (``aws-alb``, ``aws-nlb``).

Behind the AWS Load Balancer Controller with IP targets each ready endpoint is a target
of its Service's target group, and the load balancer, not the EndpointSlice, decides
where a request goes:

- a pod that turns ready gets no request until its target is healthy, ``registration_s``
  (``HealthyThresholdCount x HealthCheckIntervalSeconds``) later; one that leaves again
  before that never got any;
- a pod that leaves the ready endpoints (it terminates, or its readiness probe fails) keeps
  getting new requests for ``deregistration_propagation_s``: the controller and the load
  balancer lag; one that turns ready again meanwhile stays a target.

The same interface as ``DelayLine`` (``push``, ``pop_due``, ``next_due``), so the proxy
applies either the same way. Pure: the clock is the ``now`` passed in (seconds, any
monotonic clock).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from slagate.sandbox.proxy.topology import EndpointsByPort, ServiceKey
from slagate.sandbox.proxy.upstreams import Endpoint
from slagate.sandbox.targetgroups import TargetGroupTiming

Target = tuple[str, Endpoint]
"""A target: the EndpointSlice port name and the endpoint."""


@dataclass
class _State:
    healthy_at: float
    """When the target passed its health checks and gets requests."""
    leaves_at: float | None = None
    """When it stops getting new requests (None: registered)."""

    def routed(self, now: float) -> bool:
        return self.healthy_at <= now and (self.leaves_at is None or now < self.leaves_at)


class TargetGroups:
    """Every Service's target group: pushed ready endpoints in, routable targets out."""

    def __init__(self, timing: TargetGroupTiming) -> None:
        self.timing = timing
        self._groups: dict[ServiceKey, dict[Target, _State]] = {}
        self._ports: dict[ServiceKey, set[str]] = {}
        self._due: list[tuple[float, int, ServiceKey]] = []
        self._pushed = 0

    def __len__(self) -> int:
        return len(self._due)

    def push(self, item: tuple[ServiceKey, EndpointsByPort], now: float) -> float:
        """The Service's ready endpoints changed to these at ``now``; when the first change
        of its routing this causes is due (``now`` if none)."""
        key, ready = item
        group = self._groups.setdefault(key, {})
        self._ports.setdefault(key, set()).update(ready)
        wanted = {(port, endpoint) for port, endpoints in ready.items() for endpoint in endpoints}
        changes = [self._join(group, target, now) for target in wanted]
        changes += [self._leave(group, target, now) for target in set(group) - wanted]
        times = sorted(t for t in changes if t is not None)
        for due in times:
            self._schedule(due, key)
        return times[0] if times else now

    def pop_due(self, now: float) -> list[tuple[ServiceKey, EndpointsByPort]]:
        """The routing of every Service with a change due by ``now``."""
        keys: list[ServiceKey] = []
        while self._due and self._due[0][0] <= now:
            key = heapq.heappop(self._due)[2]
            if key not in keys:
                keys.append(key)
        return [(key, self.routable(key, now)) for key in keys]

    def next_due(self) -> float | None:
        return self._due[0][0] if self._due else None

    def routable(self, key: ServiceKey, now: float) -> EndpointsByPort:
        """The targets of ``key`` the load balancer sends new requests to at ``now``, per
        port name (every port name seen, possibly with none)."""
        group = self._groups.get(key, {})
        for target in [t for t, state in group.items() if _gone(state, now)]:
            del group[target]
        return {
            port: frozenset(e for (p, e), state in group.items() if p == port and state.routed(now))
            for port in self._ports.get(key, ())
        }

    def _join(self, group: dict[Target, _State], target: Target, now: float) -> float | None:
        state = group.get(target)
        if state is not None and not _gone(state, now):
            state.leaves_at = None  # ready again before it left: it stays a target
            return None
        group[target] = _State(healthy_at=now + self.timing.registration_s)
        return now + self.timing.registration_s

    def _leave(self, group: dict[Target, _State], target: Target, now: float) -> float | None:
        state = group[target]
        if state.leaves_at is not None:
            return None
        if state.healthy_at > now:  # never healthy: it got nothing and gets nothing
            del group[target]
            return None
        state.leaves_at = now + self.timing.deregistration_propagation_s
        return state.leaves_at

    def _schedule(self, due: float, key: ServiceKey) -> None:
        self._pushed += 1
        heapq.heappush(self._due, (due, self._pushed, key))


def _gone(state: _State, now: float) -> bool:
    return state.leaves_at is not None and state.leaves_at <= now
