"""Istio's configuration objects as the proxy keeps them: per object, what it means for
which Services (pure).

Hosts name Services as Istio resolves them: a short name in the object's own namespace
(``product``), ``product.shop``, ``product.shop.svc`` or the FQDN
``product.shop.svc.cluster.local``; wildcards and other names match no Service. When
several objects of a kind name one Service, the oldest (``creationTimestamp``, then
namespace/name) wins, as Istio keeps the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from slagate.sandbox.objects.bodies import RawObject, mapping_at
from slagate.sandbox.proxy.telemetry import CLUSTER_DOMAIN
from slagate.sandbox.proxy.topology import ServiceKey

T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    """What one object means: ``value`` for ``services``, and what in it is not modelled."""

    services: tuple[ServiceKey, ...]
    created: str
    value: T
    problems: tuple[str, ...]


def service_of(host: object, namespace: str) -> ServiceKey | None:
    """The Service a host names, None if it names none."""
    if not isinstance(host, str):
        return None
    parts = host.removesuffix(f".{CLUSTER_DOMAIN}").removesuffix(".svc").split(".")
    if "*" in host or not parts[0] or len(parts) > 2:
        return None
    return ServiceKey(parts[1] if len(parts) == 2 else namespace, parts[0])


def where(kind: str, obj: RawObject) -> str:
    """``Kind namespace/name``, for messages."""
    metadata = mapping_at(obj, "metadata")
    return f"{kind} {metadata.get('namespace') or 'default'}/{metadata.get('name')}"


def created(obj: RawObject) -> str:
    return str(mapping_at(obj, "metadata").get("creationTimestamp") or "")


class MeshConfig(Generic[T]):
    """Every object of one kind the proxy knows, read by ``reader``."""

    def __init__(self, reader: Callable[[RawObject], Read[T]]) -> None:
        self._reader = reader
        self.objects: dict[tuple[str, str], Read[T]] = {}

    def replace(self, items: Iterable[RawObject]) -> list[str]:
        """A fresh list; the problems of the objects read."""
        self.objects = {_key(obj): self._reader(obj) for obj in items}
        return [text for read in self.objects.values() for text in read.problems]

    def apply(self, event_type: str, obj: RawObject) -> list[str]:
        """One watch event; the problems of the object read (none for DELETED)."""
        if event_type == "DELETED":
            self.objects.pop(_key(obj), None)
            return []
        read = self.objects[_key(obj)] = self._reader(obj)
        return list(read.problems)

    def for_service(self, service: ServiceKey) -> T | None:
        """The value of the oldest object naming ``service``; None if none does."""
        naming = sorted(
            (read.created, key) for key, read in self.objects.items() if service in read.services
        )
        return self.objects[naming[0][1]].value if naming else None


def _key(obj: RawObject) -> tuple[str, str]:
    metadata = mapping_at(obj, "metadata")
    return str(metadata.get("namespace") or "default"), str(metadata.get("name") or "")
