"""The EndpointSlice controller: which pod addresses each Service routes to, and how ready.

For every Service with a selector, the pods it selects that have an IP become endpoints:
``addresses: [podIP]``, ``conditions`` as upstream's ``podToEndpoint`` sets them (ready:
Ready and not terminating; serving: Ready, terminating or not; terminating:
deletionTimestamp set; ``publishNotReadyAddresses`` makes every endpoint ready),
``targetRef`` to the pod and ``nodeName`` (the sandbox's one node). Ports come from the
Service with ``targetPort`` resolved per pod, by number or by container port name; pods
whose ports resolve differently go to different slices, as upstream groups them. Pods in a
terminal phase are left out; terminating pods stay, which is what lets a proxy drain them.

A Service with no endpoints keeps one empty slice (upstream's placeholder). Slices are
created with ``generateName: <service>-``, labelled ``kubernetes.io/service-name`` and
``endpointslice.kubernetes.io/managed-by``, owned by the Service, and only written when
their content changes. Simplified: no 100-endpoint split, no topology hints, no hostname.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from slagate.errors import NotFound
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.controllermanager.owners import Key, is_controlled_by, key_of, owner_reference
from slagate.sandbox.controllermanager.reading import is_deleting, pod_phase, selecting_pod
from slagate.sandbox.controllermanager.reconciling import Controller, Wiring
from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.objects.bodies import (
    RawObject,
    is_pod_ready,
    labels_of,
    mapping_at,
    metadata,
    name_of,
)
from slagate.sandbox.objects.labelselectors import LabelSelector, selector_from_object
from slagate.sandbox.objects.resources import ENDPOINT_SLICES, PODS, SERVICES
from slagate.sandbox.objects.selection import Selection

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
NODE_NAME = "sandbox"
"""``nodeName`` for a pod not bound to a node yet (the kubelet binds each pod, setting
``spec.nodeName``, before it has an IP, so this is a fallback)."""

Ports = tuple[tuple[str, int, str], ...]
"""A slice's ports as ``(name, port, protocol)``, in Service order."""


def service_selector(service: RawObject) -> LabelSelector | None:
    """The Service's pod selector; None (not managed) when it has none or it is empty."""
    raw = mapping_at(service, "spec").get("selector")
    if not isinstance(raw, dict) or not raw:
        return None
    return selector_from_object({"matchLabels": raw})


class EndpointSliceController(Controller):
    name = "endpointslice-controller"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring, wiring.informers.services)
        wiring.informers.services.add_handler(self._on_service)
        wiring.informers.pods.add_handler(self._on_pod)
        wiring.informers.endpoint_slices.add_handler(self._on_slice)

    def _on_service(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        self.queue.add(key_of(obj))

    def _on_pod(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        services = self.informers.services.objects(key_of(obj)[0])
        for service in selecting_pod(services, service_selector, obj, old):
            self.queue.add(key_of(service))

    def _on_slice(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        labels = labels_of(obj)
        service = labels.get(SERVICE_NAME_LABEL)
        if service and labels.get(MANAGED_BY_LABEL) == MANAGED_BY:
            self.queue.add((key_of(obj)[0], service))

    def sync(self, key: Key) -> None:
        namespace, name = key
        try:
            service = self.store.get(SERVICES, namespace, name)
        except NotFound:
            service = None
        existing = self._managed_slices(namespace, name)
        selector = service_selector(service) if service is not None else None
        if service is None or selector is None or is_deleting(service):
            for stale in existing:
                self._delete(stale)
            return
        pods = self.store.list(Selection(PODS, namespace, labels=selector)).items
        self._reconcile(service, desired_slices(service, pods), existing)

    def _managed_slices(self, namespace: str, service: str) -> list[RawObject]:
        labels = {SERVICE_NAME_LABEL: service, MANAGED_BY_LABEL: MANAGED_BY}
        selector = selector_from_object({"matchLabels": labels})
        return self.store.list(Selection(ENDPOINT_SLICES, namespace, labels=selector)).items

    def _reconcile(
        self,
        service: RawObject,
        desired: dict[Ports, list[dict[str, Any]]],
        existing: list[RawObject],
    ) -> None:
        """Update slices whose ports match, reuse the others for new port sets, create
        what is still missing and delete what is left over."""
        unmatched = [s for s in existing if is_controlled_by(s, service)]
        leftovers = [s for s in existing if not is_controlled_by(s, service)]
        unplaced: list[tuple[Ports, list[dict[str, Any]]]] = []
        for ports, endpoints in desired.items():
            match = next((s for s in unmatched if _ports_of(s) == ports), None)
            if match is None:
                unplaced.append((ports, endpoints))
                continue
            unmatched.remove(match)
            self._update(service, match, ports, endpoints)
        for ports, endpoints in unplaced:
            if unmatched:
                self._update(service, unmatched.pop(0), ports, endpoints)
            else:
                self.store.create(
                    ENDPOINT_SLICES, slice_body(service, ports, endpoints), key_of(service)[0]
                )
        for stale in unmatched + leftovers:
            self._delete(stale)

    def _update(
        self, service: RawObject, current: RawObject, ports: Ports, endpoints: list[dict[str, Any]]
    ) -> None:
        body = slice_body(service, ports, endpoints)
        wanted = {k: body[k] for k in ("endpoints", "ports", "addressType")}
        labels = body["metadata"]["labels"]
        if labels_of(current) == labels and all(current.get(k) == v for k, v in wanted.items()):
            return

        def rewritten(obj: RawObject) -> RawObject:
            metadata(obj)["labels"] = dict(labels)
            return {**obj, **wanted}

        self.store.modify(ENDPOINT_SLICES, *key_of(current), rewritten)

    def _delete(self, endpoint_slice: RawObject) -> None:
        with contextlib.suppress(NotFound):
            self.store.delete(ENDPOINT_SLICES, *key_of(endpoint_slice))


def desired_slices(
    service: RawObject, pods: Iterable[RawObject]
) -> dict[Ports, list[dict[str, Any]]]:
    """Endpoints grouped by their resolved ports; one empty group when there are none."""
    groups: dict[Ports, list[dict[str, Any]]] = {}
    publish_unready = bool(mapping_at(service, "spec").get("publishNotReadyAddresses"))
    for pod in sorted(pods, key=name_of):
        address = pod_address(pod)
        if not address or pod_phase(pod) in (PodPhase.SUCCEEDED, PodPhase.FAILED):
            continue
        ports = resolve_ports(service, pod)
        groups.setdefault(ports, []).append(endpoint(pod, address, publish_unready))
    return groups or {(): []}


def pod_address(pod: RawObject) -> str | None:
    """The address an IPv4 slice lists for ``pod`` (upstream ``getEndpointAddresses``):
    the IPv4 entry of ``status.podIPs``, which upstream reads rather than ``podIP``; a
    status that carries only ``podIP`` (the sandbox's own kubelet writes just that) falls
    back to it."""
    status = mapping_at(pod, "status")
    listed = [
        str(p["ip"]) for p in status.get("podIPs") or [] if isinstance(p, dict) and p.get("ip")
    ]
    if listed:
        return next((ip for ip in listed if ":" not in ip), None)
    address = status.get("podIP")
    return str(address) if address else None


def endpoint(pod: RawObject, address: str, publish_unready: bool) -> dict[str, Any]:
    """One endpoint (upstream ``podToEndpoint``)."""
    serving = is_pod_ready(pod)
    terminating = is_deleting(pod)
    meta = metadata(pod)
    return {
        "addresses": [address],
        "conditions": {
            "ready": publish_unready or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
        "targetRef": {
            "kind": "Pod",
            "namespace": key_of(pod)[0],
            "name": name_of(pod),
            "uid": meta.get("uid", ""),
        },
        "nodeName": mapping_at(pod, "spec").get("nodeName") or NODE_NAME,
    }


def resolve_ports(service: RawObject, pod: RawObject) -> Ports:
    """The Service's ports with ``targetPort`` resolved for ``pod``; a named port the pod
    does not declare is left out for that pod, as upstream does."""
    resolved: list[tuple[str, int, str]] = []
    for port in mapping_at(service, "spec").get("ports") or []:
        protocol = str(port.get("protocol", "TCP"))
        number = target_port(pod, port.get("targetPort", port.get("port")), protocol)
        if number is not None:
            resolved.append((str(port.get("name", "")), number, protocol))
    return tuple(resolved)


def target_port(pod: RawObject, target: Any, protocol: str) -> int | None:
    """A number as it is; a name looked up among the pod's container ports (upstream
    ``FindPort``)."""
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if not isinstance(target, str) or not target:
        return None
    for container in mapping_at(pod, "spec").get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                number = port.get("containerPort")
                return number if isinstance(number, int) else None
    return None


def slice_body(service: RawObject, ports: Ports, endpoints: list[dict[str, Any]]) -> RawObject:
    name = name_of(service)
    labels = {**labels_of(service), SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{name}-",
            "namespace": key_of(service)[0],
            "labels": labels,
            "ownerReferences": [owner_reference(service)],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports],
    }


def _ports_of(endpoint_slice: RawObject) -> Ports:
    return tuple(
        (str(p.get("name", "")), int(p.get("port", 0)), str(p.get("protocol", "TCP")))
        for p in endpoint_slice.get("ports") or []
        if isinstance(p, dict)
    )
