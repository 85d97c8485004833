"""core/v1 Events about pods, written to the store as upstream's event recorder does.

A repeat of the same event (same object, container, type, reason and message) bumps the
stored event's ``count`` and ``lastTimestamp`` instead of adding one, like the
EventCorrelator: a crash-looping container makes one BackOff event with a growing count.
Messages are cut at 1024 characters, as upstream cuts them.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slagate.errors import ApiError, NotFound
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet.status import timestamp
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import EVENTS

logger = logging.getLogger(__name__)

MESSAGE_LIMIT_CHARS = 1024
_REMEMBERED_EVENTS = 4096

NORMAL = "Normal"
WARNING = "Warning"


@dataclass(frozen=True)
class PodRef:
    """The pod an event is about; ``container`` names a container in it (an init
    container if ``init``), or is empty."""

    namespace: str
    name: str
    uid: str
    container: str = ""
    init: bool = False

    def for_container(self, container: str, init: bool = False) -> PodRef:
        return PodRef(self.namespace, self.name, self.uid, container, init)

    @property
    def field_path(self) -> str:
        """``involvedObject.fieldPath`` as upstream's ``GetContainerReference`` writes it."""
        if not self.container:
            return ""
        return f"spec.{'initContainers' if self.init else 'containers'}{{{self.container}}}"


class EventRecorder:
    """Records events from ``component`` on ``host``. Not thread-safe: the kubelet
    records from its loop thread only. Store errors are logged, never raised: losing an
    event must not stop a pod."""

    def __init__(
        self, store: ObjectStore, clock: Callable[[], float], component: str, host: str = ""
    ) -> None:
        self._store = store
        self._clock = clock
        self._component = component
        self._host = host
        self._names: OrderedDict[tuple[str, ...], str] = OrderedDict()
        self._sequence = itertools.count()

    def record(self, ref: PodRef, type_: str, reason: str, message: str) -> None:
        message = message[:MESSAGE_LIMIT_CHARS]
        key = (ref.namespace, ref.uid, ref.field_path, type_, reason, message)
        try:
            if not self._bump(ref, key):
                self._create(ref, key, type_, reason, message)
        except ApiError as error:
            logger.warning("could not record event %s for pod %s: %s", reason, ref.name, error)

    def _bump(self, ref: PodRef, key: tuple[str, ...]) -> bool:
        name = self._names.get(key)
        if name is None:
            return False
        now = timestamp(self._clock())

        def bump(event: RawObject) -> RawObject:
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = now
            return event

        try:
            self._store.modify(EVENTS, ref.namespace, name, bump)
        except NotFound:
            del self._names[key]
            return False
        self._names.move_to_end(key)
        return True

    def _create(
        self, ref: PodRef, key: tuple[str, ...], type_: str, reason: str, message: str
    ) -> None:
        now_s = self._clock()
        name = f"{ref.name}.{int(now_s * 1e9) + next(self._sequence):x}"
        involved: dict[str, Any] = {
            "kind": "Pod",
            "namespace": ref.namespace,
            "name": ref.name,
            "uid": ref.uid,
            "apiVersion": "v1",
        }
        if ref.field_path:
            involved["fieldPath"] = ref.field_path
        source = {"component": self._component, **({"host": self._host} if self._host else {})}
        self._store.create(
            EVENTS,
            {
                "metadata": {"name": name, "namespace": ref.namespace},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "type": type_,
                "source": source,
                "firstTimestamp": timestamp(now_s),
                "lastTimestamp": timestamp(now_s),
                "count": 1,
                "eventTime": None,
                "reportingComponent": self._component,
                "reportingInstance": self._host,
            },
            ref.namespace,
        )
        self._names[key] = name
        if len(self._names) > _REMEMBERED_EVENTS:
            self._names.popitem(last=False)
