"""Events: the core/v1 ``Event`` objects controllers leave behind, as upstream records them.

``EventRecorder`` is client-go's recorder plus the part of its ``EventCorrelator`` that
matters for reading a run afterwards: an event identical to one recorded before (same
object, type, reason, message) bumps ``count`` and ``lastTimestamp`` of the stored Event
instead of creating another. Upstream's "similar events" aggregation (ten events that
differ only in message become one "(combined from similar events)") and its spam filter
are not modelled. Recording is best effort, as upstream: a failed write is logged, never
raised into the controller.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slagate.errors import AlreadyExists, ApiError, NotFound
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager.writing import format_time
from slagate.sandbox.objects.bodies import RawObject, metadata, name_of, namespace_of
from slagate.sandbox.objects.resources import EVENTS

logger = logging.getLogger(__name__)

CACHE_SIZE = 4096
"""Distinct events remembered for aggregation (upstream's LRU holds 4096 too)."""
_NAME_ATTEMPTS = 16


class EventKind(enum.Enum):
    """``Event.type``."""

    NORMAL = "Normal"
    WARNING = "Warning"


_Identity = tuple[str, str, str, str, str, str, str]


class EventRecorder:
    """Records Events about objects for one ``component`` (``source.component``).

    ``clock``: wall time in Unix seconds for the timestamps and the name suffix.
    ``host``: ``source.host``; upstream controllers leave it empty (kubelets name their
    node). Thread-safe.
    """

    def __init__(
        self,
        store: ObjectStore,
        component: str,
        clock: Callable[[], float],
        host: str = "",
    ) -> None:
        self._store = store
        self._component = component
        self._clock = clock
        self._host = host
        self._lock = threading.Lock()
        self._seen: OrderedDict[_Identity, str] = OrderedDict()
        self._last_nanos = 0

    def normal(self, obj: RawObject, reason: str, message: str) -> None:
        self.record(obj, EventKind.NORMAL, reason, message)

    def warning(self, obj: RawObject, reason: str, message: str) -> None:
        self.record(obj, EventKind.WARNING, reason, message)

    def record(self, obj: RawObject, kind: EventKind, reason: str, message: str) -> None:
        """Create the Event, or count one more of an identical earlier one."""
        identity = _identity(obj, kind, reason, message)
        now = self._clock()
        with self._lock:
            try:
                if not self._bump(identity, now):
                    self._create(obj, identity, kind, reason, message, now)
            except ApiError as error:
                logger.warning("could not record event %s %s: %s", reason, message, error)

    def _bump(self, identity: _Identity, now: float) -> bool:
        name = self._seen.get(identity)
        if name is None:
            return False

        def counted(event: RawObject) -> RawObject:
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = format_time(now)
            return event

        try:
            self._store.modify(EVENTS, identity[1], name, counted)
        except NotFound:
            del self._seen[identity]
            return False
        self._seen.move_to_end(identity)
        return True

    def _create(
        self,
        obj: RawObject,
        identity: _Identity,
        kind: EventKind,
        reason: str,
        message: str,
        now: float,
    ) -> None:
        namespace = identity[1]
        for _ in range(_NAME_ATTEMPTS):
            body = self._event_body(obj, kind, reason, message, now)
            try:
                created = self._store.create(EVENTS, body, namespace)
            except AlreadyExists:
                continue
            self._seen[identity] = name_of(created)
            if len(self._seen) > CACHE_SIZE:
                self._seen.popitem(last=False)
            return

    def _event_body(
        self, obj: RawObject, kind: EventKind, reason: str, message: str, now: float
    ) -> RawObject:
        meta = metadata(obj)
        namespace = namespace_of(obj) or "default"
        stamp = format_time(now)
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": self._event_name(name_of(obj), now), "namespace": namespace},
            "involvedObject": _reference(obj, meta),
            "reason": reason,
            "message": message,
            "source": _source(self._component, self._host),
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": kind.value,
            "eventTime": None,
            "reportingComponent": self._component,
            "reportingInstance": self._host,
        }

    def _event_name(self, object_name: str, now: float) -> str:
        """``<object>.<hex nanoseconds>`` as upstream, never repeating within a recorder."""
        self._last_nanos = max(int(now * 1e9), self._last_nanos + 1)
        return f"{object_name}.{self._last_nanos:x}"


def _source(component: str, host: str) -> dict[str, str]:
    return {"component": component, "host": host} if host else {"component": component}


def _reference(obj: RawObject, meta: dict[str, Any]) -> dict[str, Any]:
    reference = {
        "kind": obj.get("kind", ""),
        "namespace": namespace_of(obj),
        "name": name_of(obj),
        "uid": meta.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    return {key: value for key, value in reference.items() if value}


def _identity(obj: RawObject, kind: EventKind, reason: str, message: str) -> _Identity:
    meta = metadata(obj)
    return (
        str(meta.get("uid", "")),
        namespace_of(obj) or "default",
        name_of(obj),
        str(obj.get("kind", "")),
        kind.value,
        reason,
        message,
    )
