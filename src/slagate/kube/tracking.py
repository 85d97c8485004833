"""Trackers: the last known state per kind, turning changes into timeline rows. Pure.

A watcher feeds a tracker every watch event (``apply``) and every list (``resync``). A
re-list after a lost watch is diffed against the last known state, so a transition that
happened while disconnected is still recorded (at the re-list's receipt time): a pod that
became ready gets its ``ready`` row, one that vanished its ``deleted`` row. What the diff
cannot show is a change that was undone meanwhile (ready, then unready again): such
flickers are lost only when the watch history itself expired (410).

Not thread-safe: each tracker belongs to one watcher thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from slagate.kube.bodies import RawObject, WatchEventType, meta, name_of
from slagate.kube.states import (
    PodState,
    ReplicaValues,
    ServiceEndpoints,
    SliceState,
    event_count,
    event_row,
    pod_row,
    pod_state,
    pod_transitions,
    service_endpoints,
    slice_state,
)
from slagate.timeline import (
    EndpointRow,
    EventRow,
    PodRow,
    PodTransition,
    ReplicaRow,
    Table,
    TimelineRow,
)


class Tracker(Protocol):
    """Turns what a list and watch of one kind report into rows of ``table``."""

    @property
    def table(self) -> Table: ...

    def apply(self, event_type: WatchEventType, obj: RawObject, t_ms: int) -> Sequence[TimelineRow]:
        """Rows for one watch event (ADDED, MODIFIED or DELETED)."""
        ...

    def resync(self, items: list[RawObject], t_ms: int, initial: bool) -> Sequence[TimelineRow]:
        """Rows for the difference between the last known state and a fresh list.
        ``initial``: the first list of the run (the state the run starts from)."""
        ...


class PodTracker:
    """``pods`` rows: added, deleting, phase, ready/unready, deleted."""

    table = Table.PODS

    def __init__(self) -> None:
        self._pods: dict[str, PodState] = {}

    def apply(self, event_type: WatchEventType, obj: RawObject, t_ms: int) -> list[PodRow]:
        new = pod_state(obj)
        rows = self._update(new, t_ms)
        if event_type == WatchEventType.DELETED:
            rows += self._gone(new.name, t_ms)
        return rows

    def resync(self, items: list[RawObject], t_ms: int, initial: bool) -> list[PodRow]:
        states = [pod_state(obj) for obj in items]
        rows = [row for state in states for row in self._update(state, t_ms)]
        listed = {state.name for state in states}
        for name in sorted(set(self._pods) - listed):
            rows += self._gone(name, t_ms)
        return rows

    def _update(self, new: PodState, t_ms: int) -> list[PodRow]:
        old = self._pods.get(new.name)
        rows: list[PodRow] = []
        if old is not None and old.uid != new.uid:  # deleted and re-created meanwhile
            rows, old = self._gone(new.name, t_ms), None
        self._pods[new.name] = new
        return rows + [pod_row(t_ms, t, new) for t in pod_transitions(old, new)]

    def _gone(self, name: str, t_ms: int) -> list[PodRow]:
        last = self._pods.pop(name, None)
        return [] if last is None else [pod_row(t_ms, PodTransition.DELETED, last)]


class ReplicaTracker:
    """``replicas`` rows for one kind (HPA, Deployment or ReplicaSet); a row only when a
    recorded field changed, and one with ``deleted`` when the object goes."""

    table = Table.REPLICAS

    def __init__(self, values: Callable[[RawObject], ReplicaValues]) -> None:
        self._values = values
        self._last: dict[str, ReplicaValues] = {}

    def apply(self, event_type: WatchEventType, obj: RawObject, t_ms: int) -> list[ReplicaRow]:
        values = self._values(obj)
        if event_type == WatchEventType.DELETED:
            return self._gone(values.name, t_ms, values)
        return self._record(values, t_ms)

    def resync(self, items: list[RawObject], t_ms: int, initial: bool) -> list[ReplicaRow]:
        values = [self._values(obj) for obj in items]
        rows = [row for v in values for row in self._record(v, t_ms)]
        listed = {v.name for v in values}
        for name in sorted(set(self._last) - listed):
            rows += self._gone(name, t_ms, self._last[name])
        return rows

    def _record(self, values: ReplicaValues, t_ms: int) -> list[ReplicaRow]:
        if self._last.get(values.name) == values:
            return []
        self._last[values.name] = values
        return [values.row(t_ms)]

    def _gone(self, name: str, t_ms: int, last: ReplicaValues) -> list[ReplicaRow]:
        self._last.pop(name, None)
        return [last._replace(deleted=True).row(t_ms)]


class EndpointTracker:
    """``endpoints`` rows per Service, summed over its EndpointSlices, whenever a count or
    a pod set changes."""

    table = Table.ENDPOINTS

    def __init__(self) -> None:
        self._slices: dict[str, SliceState] = {}
        self._last: dict[str, ServiceEndpoints] = {}

    def apply(self, event_type: WatchEventType, obj: RawObject, t_ms: int) -> list[EndpointRow]:
        name = name_of(obj)
        before = self._slices.pop(name, None)
        state = None if event_type == WatchEventType.DELETED else slice_state(obj)
        if state is not None:
            self._slices[name] = state
        return self._rows(_services(before, state), t_ms)

    def resync(self, items: list[RawObject], t_ms: int, initial: bool) -> list[EndpointRow]:
        affected = {s.service for s in self._slices.values()}
        self._slices = {name_of(o): s for o in items if (s := slice_state(o)) is not None}
        affected |= {s.service for s in self._slices.values()}
        return self._rows(affected, t_ms)

    def _rows(self, services: Iterable[str], t_ms: int) -> list[EndpointRow]:
        rows = []
        for service in sorted(services):
            counts = service_endpoints(s for s in self._slices.values() if s.service == service)
            if self._last.get(service) != counts:
                self._last[service] = counts
                rows.append(counts.row(t_ms, service))
        return rows


def _services(*states: SliceState | None) -> set[str]:
    return {s.service for s in states if s is not None}


class EventTracker:
    """``events`` rows for core Events: each new Event, and each repeat (``count`` grew).

    The first list only remembers what exists: Events from before the run would get the
    run's receipt time, which is misleading, so they are not recorded."""

    table = Table.EVENTS

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def apply(self, event_type: WatchEventType, obj: RawObject, t_ms: int) -> list[EventRow]:
        uid = meta(obj).get("uid") or name_of(obj)
        if event_type == WatchEventType.DELETED:
            self._counts.pop(uid, None)
            return []
        return self._seen(uid, obj, t_ms, record=True)

    def resync(self, items: list[RawObject], t_ms: int, initial: bool) -> list[EventRow]:
        listed = {meta(o).get("uid") or name_of(o): o for o in items}
        for uid in set(self._counts) - set(listed):
            del self._counts[uid]
        record = not initial
        return [row for uid, obj in listed.items() for row in self._seen(uid, obj, t_ms, record)]

    def _seen(self, uid: str, obj: RawObject, t_ms: int, record: bool) -> list[EventRow]:
        count, before = event_count(obj), self._counts.get(uid)
        self._counts[uid] = count
        if not record or (before is not None and count <= before):
            return []
        return [event_row(t_ms, obj)]
