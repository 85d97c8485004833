"""``ServiceProxy``: one loopback listener per Service port, routed by delayed endpoints.

Runs on one asyncio loop. Two inputs, both plain method calls on the loop's thread:

- Services (``service_listed`` / ``service_changed``): take effect at once; a new Service
  port gets a listener on a free 127.0.0.1 port, kept for the Service's life (a listener
  without endpoints answers 503 ``no healthy upstream``).
- Endpoints (``slices_listed`` / ``slice_changed``, or ``set_endpoints`` directly): the
  routable endpoints of the affected Services are computed at once and applied
  ``delay_s`` later (plus up to ``jitter_s`` under the ``kube-proxy`` data plane), in
  order (see ``delaying``).

The ``data_plane`` decides the rest: ``per-request`` balances each request with
``balancing``; ``kube-proxy`` ties each client connection to a random endpoint and falls
back to serving-terminating endpoints when none is ready (``forwarding``, ``topology``).
- DestinationRules and VirtualServices (``rules_listed`` / ``rule_changed``,
  ``routes_listed`` / ``route_changed``; ``istio`` only): each Service port's ``Sidecar``
  detects outliers under its Service's rule and routes by its VirtualService from the
  next request on (``destinationrules``, ``outliers``, ``virtualservices``); what they
  carry that is not modelled is logged.
- Pods (``pods_listed`` / ``pod_changed``): only to name the workloads at both ends of a
  request in ``telemetry`` (Istio's labels); they change no routing.

``on_ports`` is called with the whole Service -> port map after every listener change
(the process entry writes it to the ports file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.proxy.delaying import DelayLine
from slagate.sandbox.proxy.destinationrules import destination_rules
from slagate.sandbox.proxy.forwarding import Forwarder, ProxyStats
from slagate.sandbox.proxy.portsfile import PortMap, PublishedPort
from slagate.sandbox.proxy.registering import TargetGroups
from slagate.sandbox.proxy.sidecar import Sidecar
from slagate.sandbox.proxy.telemetry import CLUSTER_DOMAIN, RequestTelemetry, ServiceMeter
from slagate.sandbox.proxy.topology import (
    EndpointsByPort,
    ServiceKey,
    ServicePort,
    Topology,
    endpoints_for_port,
)
from slagate.sandbox.proxy.upstreams import Backends, Balancing, Endpoint
from slagate.sandbox.proxy.virtualservices import virtual_services
from slagate.sandbox.proxy.workloads import Workloads
from slagate.sandbox.settings import DataPlane
from slagate.sandbox.targetgroups import TargetGroupTiming

logger = logging.getLogger(__name__)
LISTEN_BACKLOG = 2048


@dataclass
class _Listener:
    service_port: ServicePort
    proxy_port: int
    server: asyncio.Server
    backends: Backends
    clients: set[asyncio.StreamWriter] = field(default_factory=set)
    sidecar: Sidecar | None = None


class ServiceProxy:
    """The proxy's state on its loop. ``host`` must be a loopback address.

    ``preferred_ports`` (from a previous run's ports file) are tried first, so a restarted
    proxy keeps its Services' URLs when the ports are still free. ``telemetry`` counts
    every answered request (a new one if not given). ``rng`` draws the jitter and the
    ``kube-proxy`` endpoint picks (a seeded one makes them repeatable).
    """

    def __init__(
        self,
        delay_s: float,
        *,
        data_plane: DataPlane = DataPlane.PER_REQUEST,
        jitter_s: float = 0.0,
        balancing: Balancing = Balancing.LEAST_REQUEST,
        host: str = "127.0.0.1",
        on_ports: Callable[[PortMap], None] | None = None,
        preferred_ports: PortMap | None = None,
        telemetry: RequestTelemetry | None = None,
        rng: random.Random | None = None,
        target_group: TargetGroupTiming | None = None,
    ) -> None:
        self.host = host
        self.data_plane = data_plane
        self.balancing = Balancing.RANDOM if data_plane.per_connection else balancing
        self.stats = ProxyStats()
        self.telemetry = telemetry or RequestTelemetry()
        self.workloads = Workloads()
        self.rules = destination_rules()
        self.routes = virtual_services()
        self.topology = Topology(fallback_to_terminating=data_plane.terminating_fallback)
        self._rng = rng or random.Random()
        self._delay = self._lag(delay_s, data_plane.jitter_s(jitter_s), target_group)
        self._on_ports = on_ports
        self._preferred = {
            (key, p.name): p.proxy_port
            for key, ports in (preferred_ports or {}).items()
            for p in ports
        }
        self._listeners: dict[ServiceKey, dict[str, _Listener]] = {}
        self._scheduled: dict[ServiceKey, EndpointsByPort] = {}
        self._applied: dict[ServiceKey, EndpointsByPort] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._sync_again = False
        self._closed = False

    def _lag(
        self, delay_s: float, jitter_s: float, target_group: TargetGroupTiming | None
    ) -> DelayLine[tuple[ServiceKey, EndpointsByPort]] | TargetGroups:
        """What stands between an EndpointSlice change and the routing: the load balancer's
        target groups under ``aws-alb``/``aws-nlb``, the propagation delay otherwise."""
        if self.data_plane.load_balancer:
            if target_group is None:
                raise ValueError(f"the {self.data_plane.value} data plane needs target_group")
            return TargetGroups(target_group)
        return DelayLine[tuple[ServiceKey, EndpointsByPort]](delay_s, jitter_s, self._rng)

    # -- inputs ---------------------------------------------------------------------------

    def service_listed(self, items: Iterable[RawObject]) -> None:
        self.topology.replace_services(items)
        self._request_sync()

    def service_changed(self, event_type: str, obj: RawObject) -> None:
        self.topology.apply_service(event_type, obj)
        self._request_sync()

    def slices_listed(self, items: Iterable[RawObject]) -> None:
        for key in self.topology.replace_slices(items):
            self.set_endpoints(key, self.topology.endpoints(key))

    def slice_changed(self, event_type: str, obj: RawObject) -> None:
        for key in self.topology.apply_slice(event_type, obj):
            self.set_endpoints(key, self.topology.endpoints(key))

    def rules_listed(self, items: Iterable[RawObject]) -> None:
        self._note_rules(self.rules.replace(items))

    def rule_changed(self, event_type: str, obj: RawObject) -> None:
        self._note_rules(self.rules.apply(event_type, obj))

    def routes_listed(self, items: Iterable[RawObject]) -> None:
        self._note_rules(self.routes.replace(items))

    def route_changed(self, event_type: str, obj: RawObject) -> None:
        self._note_rules(self.routes.apply(event_type, obj))

    def _note_rules(self, problems: list[str]) -> None:
        for problem in problems:
            logger.warning("%s", problem)
        for key, listeners in self._listeners.items():
            for listener in listeners.values():
                self._apply_rule(key, listener)

    def _apply_rule(self, key: ServiceKey, listener: _Listener) -> None:
        if listener.sidecar is not None:
            listener.sidecar.set_outliers(self.rules.for_service(key), time.monotonic())
            listener.sidecar.set_route(self.routes.for_service(key))

    def sidecars(self) -> list[Sidecar]:
        """The ``istio`` data plane's per-port state (none under other data planes)."""
        return [
            listener.sidecar
            for listeners in self._listeners.values()
            for listener in listeners.values()
            if listener.sidecar is not None
        ]

    def pods_listed(self, items: Iterable[RawObject]) -> None:
        self.workloads.replace(items)

    def pod_changed(self, event_type: str, obj: RawObject) -> None:
        self.workloads.apply(event_type, obj)

    def set_endpoints(self, key: ServiceKey, endpoints: EndpointsByPort) -> None:
        """Route ``key`` to ``endpoints`` (routable ones, per port name) after the delay."""
        if self._scheduled.get(key) == endpoints or self._closed:
            return
        self._scheduled[key] = endpoints
        loop = asyncio.get_running_loop()
        self._delay.push((key, endpoints), loop.time())
        self._arm(loop)

    async def open_service(self, key: ServiceKey, ports: Iterable[ServicePort]) -> dict[str, int]:
        """Declare a Service directly (tests, or without a cluster); its proxy ports."""
        self.topology.services[key] = tuple(ports)
        await self.sync_listeners()
        return {name: listener.proxy_port for name, listener in self._listeners[key].items()}

    # -- queries --------------------------------------------------------------------------

    def port_of(self, key: ServiceKey, port_name: str = "") -> int:
        """The loopback port serving ``port_name`` of Service ``key``; KeyError if none."""
        return self._listeners[key][port_name].proxy_port

    def routed(self, key: ServiceKey, port_name: str = "") -> tuple[str, ...]:
        """The endpoints (``address:port``) a Service port routes to right now."""
        return tuple(str(e) for e in self._listeners[key][port_name].backends.endpoints)

    def port_map(self) -> dict[ServiceKey, tuple[PublishedPort, ...]]:
        return {
            key: tuple(
                PublishedPort(name, listener.service_port.port, listener.proxy_port)
                for name, listener in listeners.items()
            )
            for key, listeners in self._listeners.items()
        }

    # -- endpoints after the delay --------------------------------------------------------

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        due = self._delay.next_due()
        if due is not None and self._timer is None:
            self._timer = loop.call_at(due, self._apply_due)

    def _apply_due(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        for key, endpoints in self._delay.pop_due(loop.time()):
            self._applied[key] = endpoints
            self._route(key)
        self._arm(loop)

    def _route(self, key: ServiceKey) -> None:
        listeners = self._listeners.get(key, {})
        by_port = self._applied.get(key, {})
        for listener in listeners.values():
            port = listener.service_port
            listener.backends.update(endpoints_for_port(port, len(listeners), by_port))
            if listener.sidecar is not None:
                listener.sidecar.endpoints_changed()

    # -- listeners ------------------------------------------------------------------------

    def _request_sync(self) -> None:
        if self._closed:
            return
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_again = True
            return
        self._sync_task = asyncio.get_running_loop().create_task(self._sync_until_settled())

    async def _sync_until_settled(self) -> None:
        self._sync_again = True
        while self._sync_again and not self._closed:
            self._sync_again = False
            await self.sync_listeners()

    async def sync_listeners(self) -> None:
        """Open listeners for new Service ports and close those of removed ones."""
        changed = False
        for key in [k for k in self._listeners if k not in self.topology.services]:
            self._close_listeners(self._listeners.pop(key).values())
            changed = True
        for key, ports in list(self.topology.services.items()):
            changed |= await self._sync_service(key, ports)
        if changed and self._on_ports is not None:
            self._on_ports(self.port_map())

    async def _sync_service(self, key: ServiceKey, ports: tuple[ServicePort, ...]) -> bool:
        listeners = self._listeners.setdefault(key, {})
        wanted = {port.name: port for port in ports}
        stale = [name for name, item in listeners.items() if wanted.get(name) is None]
        self._close_listeners(listeners.pop(name) for name in stale)
        changed = bool(stale)
        for name, port in wanted.items():
            if name in listeners:
                changed |= listeners[name].service_port != port
                listeners[name].service_port = port
            else:
                listeners[name] = await self._listen(key, port)
                changed = True
        if changed:
            self._route(key)
        return changed

    async def _listen(self, key: ServiceKey, port: ServicePort) -> _Listener:
        backends = Backends(self.balancing, self._rng)
        clients: set[asyncio.StreamWriter] = set()
        meter = ServiceMeter(self.telemetry, key, self.workloads)
        per_connection = self.data_plane.per_connection
        sidecar = None
        if self.data_plane.mesh:
            sidecar = Sidecar(backends, cluster_name(key, port))
            self.telemetry.outliers[sidecar.name] = sidecar
        forwarder = Forwarder(
            backends, self.stats, clients, meter, per_connection=per_connection, sidecar=sidecar
        )
        server = await self._bind(forwarder, self._preferred.pop((key, port.name), 0))
        proxy_port = int(server.sockets[0].getsockname()[1])
        logger.info("service %s port %s: listening on %s:%d", key, port.port, self.host, proxy_port)
        listener = _Listener(port, proxy_port, server, backends, clients, sidecar)
        self._apply_rule(key, listener)
        return listener

    async def _bind(self, forwarder: Forwarder, port: int) -> asyncio.Server:
        if port:
            with contextlib.suppress(OSError):
                return await self._start_server(forwarder, port)
        return await self._start_server(forwarder, 0)

    async def _start_server(self, forwarder: Forwarder, port: int) -> asyncio.Server:
        return await asyncio.start_server(
            forwarder.serve, self.host, port, backlog=LISTEN_BACKLOG, reuse_address=True
        )

    def _close_listeners(self, listeners: Iterable[_Listener]) -> None:
        for listener in listeners:
            listener.server.close()
            for writer in list(listener.clients):
                writer.close()
            listener.backends.close()

    async def close(self) -> None:
        """Close every listener and client connection; pending endpoint changes are dropped."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        servers = [
            listener.server for group in self._listeners.values() for listener in group.values()
        ]
        for group in self._listeners.values():
            self._close_listeners(group.values())
        self._listeners.clear()
        for server in servers:
            await server.wait_closed()


def cluster_name(key: ServiceKey, port: ServicePort) -> str:
    """Envoy's name for a Service port's upstream cluster in an Istio sidecar."""
    return f"outbound|{port.port}||{key.name}.{key.namespace}.{CLUSTER_DOMAIN}"


def endpoint_map(by_port: Mapping[str, Iterable[tuple[str, int]]]) -> EndpointsByPort:
    """Build an ``EndpointsByPort`` from plain ``(address, port)`` pairs (tests, tools)."""
    return {name: frozenset(Endpoint(a, p) for a, p in pairs) for name, pairs in by_port.items()}
