"""What the proxy knows of the cluster: Services, their EndpointSlices, the ready endpoints.

Pure state, fed by watch events and re-lists; no I/O and no clock. ``Topology`` answers
"which Services (and ports) exist" and "which endpoints of a Service are routable, per port
name", which is what kube-proxy derives from the same two resources.

An endpoint is routable when ``conditions.ready`` is true or absent (the API says
consumers should read an unknown state as ready); a terminating pod's endpoint has
``ready: false`` and is dropped, unless ``fallback_to_terminating`` is asked for (the
``kube-proxy`` data plane): then a Service port with no ready endpoint routes to its
endpoints that are both ``serving`` (true or absent) and ``terminating``, as kube-proxy's
``CategorizeEndpoints`` does (pkg/proxy/topology.go). As kube-proxy does, only an
endpoint's first address is used, and only if it is a loopback address (sandbox pods
live on 127.0.0.0/8).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from slagate.sandbox.objects.bodies import RawObject, labels_of, mapping_at, name_of, namespace_of
from slagate.sandbox.proxy.upstreams import Endpoint

SERVICE_NAME_LABEL = "kubernetes.io/service-name"

EndpointsByPort = Mapping[str, frozenset[Endpoint]]
"""Routable endpoints of one Service keyed by EndpointSlice port name ("" when unnamed)."""


class ServiceKey(NamedTuple):
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ServicePort:
    """One TCP port of a Service spec: its ``name`` ("" when unnamed) and ``port``."""

    name: str
    port: int


def service_key(obj: RawObject) -> ServiceKey:
    return ServiceKey(namespace_of(obj), name_of(obj))


def service_ports(service: RawObject) -> tuple[ServicePort, ...]:
    """The Service's TCP ports in spec order (UDP and SCTP ports are not proxied)."""
    ports = []
    for raw in mapping_at(service, "spec").get("ports") or []:
        if not isinstance(raw, dict) or raw.get("protocol", "TCP") != "TCP":
            continue
        number = raw.get("port")
        if isinstance(number, int) and not isinstance(number, bool):
            ports.append(ServicePort(str(raw.get("name") or ""), number))
    return tuple(ports)


def owning_service(endpoint_slice: RawObject) -> ServiceKey | None:
    """The Service an EndpointSlice belongs to, from its ``kubernetes.io/service-name``."""
    name = labels_of(endpoint_slice).get(SERVICE_NAME_LABEL)
    return ServiceKey(namespace_of(endpoint_slice), name) if name else None


def routable_endpoints(
    slices: Iterable[RawObject], *, fallback_to_terminating: bool = False
) -> dict[str, frozenset[Endpoint]]:
    """The endpoints to route to, per port name, over all ``slices`` of one Service: the
    ready ones; with ``fallback_to_terminating``, a port without any ready endpoint gets
    the serving-terminating ones instead."""
    ready: dict[str, set[Endpoint]] = {}
    draining: dict[str, set[Endpoint]] = {}
    for endpoint_slice in slices:
        listed = [e for e in endpoint_slice.get("endpoints") or [] if isinstance(e, dict)]
        ready_addresses = [a for a in map(_ready_address, listed) if a]
        draining_addresses = [a for a in map(_draining_address, listed) if a]
        for port in endpoint_slice.get("ports") or []:
            number = port.get("port") if isinstance(port, dict) else None
            if not isinstance(number, int) or isinstance(number, bool):
                continue
            name = str(port.get("name") or "")
            ready.setdefault(name, set()).update(Endpoint(a, number) for a in ready_addresses)
            draining.setdefault(name, set()).update(Endpoint(a, number) for a in draining_addresses)
    return {
        name: frozenset(endpoints or (draining[name] if fallback_to_terminating else ()))
        for name, endpoints in ready.items()
    }


def _ready_address(endpoint: dict[str, Any]) -> str | None:
    if mapping_at(endpoint, "conditions").get("ready") is False:
        return None
    return _first_address(endpoint)


def _draining_address(endpoint: dict[str, Any]) -> str | None:
    """The address of a serving-terminating endpoint (``serving`` absent reads as true)."""
    conditions = mapping_at(endpoint, "conditions")
    if conditions.get("terminating") is not True or conditions.get("serving") is False:
        return None
    return _first_address(endpoint)


def _first_address(endpoint: dict[str, Any]) -> str | None:
    addresses = endpoint.get("addresses") or []
    return str(addresses[0]) if addresses and is_loopback(addresses[0]) else None


def is_loopback(address: Any) -> bool:
    """Only loopback endpoints are routed: the sandbox's pods all live on 127.0.0.0/8, and
    an unauthenticated local API must not turn the proxy into a relay to other hosts."""
    try:
        return ipaddress.ip_address(str(address)).is_loopback
    except ValueError:
        return False


def endpoints_for_port(
    port: ServicePort, ports_of_service: int, by_port: EndpointsByPort
) -> frozenset[Endpoint]:
    """The endpoints a Service port routes to: the slice port of the same name, or, for a
    single-port Service whose slices carry a single port, that one whatever its name."""
    if port.name in by_port:
        return by_port[port.name]
    if ports_of_service == 1 and len(by_port) == 1:
        return next(iter(by_port.values()))
    return frozenset()


class Topology:
    """Services and EndpointSlices as last listed or watched; ``fallback_to_terminating``
    as in ``routable_endpoints``."""

    def __init__(self, *, fallback_to_terminating: bool = False) -> None:
        self.fallback_to_terminating = fallback_to_terminating
        self.services: dict[ServiceKey, tuple[ServicePort, ...]] = {}
        self._slices: dict[tuple[str, str], RawObject] = {}

    def replace_services(self, items: Iterable[RawObject]) -> None:
        self.services = {service_key(obj): service_ports(obj) for obj in items}

    def apply_service(self, event_type: str, obj: RawObject) -> None:
        if event_type == "DELETED":
            self.services.pop(service_key(obj), None)
        else:
            self.services[service_key(obj)] = service_ports(obj)

    def replace_slices(self, items: Iterable[RawObject]) -> set[ServiceKey]:
        """Replace every slice; the Services whose slices were or are among them."""
        touched = {key for key in map(owning_service, self._slices.values()) if key}
        self._slices = {(namespace_of(obj), name_of(obj)): obj for obj in items}
        return touched | {key for key in map(owning_service, self._slices.values()) if key}

    def apply_slice(self, event_type: str, obj: RawObject) -> set[ServiceKey]:
        """Record one slice event; the Services it touches (a relabelled slice: two)."""
        key = (namespace_of(obj), name_of(obj))
        previous = self._slices.pop(key, None)
        if event_type != "DELETED":
            self._slices[key] = obj
        owners = {owning_service(obj), owning_service(previous) if previous else None}
        return {owner for owner in owners if owner}

    def endpoints(self, service: ServiceKey) -> dict[str, frozenset[Endpoint]]:
        return routable_endpoints(
            (s for s in self._slices.values() if owning_service(s) == service),
            fallback_to_terminating=self.fallback_to_terminating,
        )
