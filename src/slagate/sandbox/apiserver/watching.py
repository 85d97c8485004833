"""Watch events, the bounded history they are kept in, and in-process watchers.

The store appends one ``WatchEvent`` per write to an ``EventLog``: a ring buffer per
resource type, like the API server's watch cache. A watch from a revision the buffer no
longer covers is ``Expired`` (410), so clients must re-list, as against a real cluster.

A ``Watcher`` is one subscription: a cursor into the log plus a ``Selection``. It
translates events through the selectors the way upstream does: an object that starts
matching arrives as ADDED, one that stops matching as DELETED.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from slagate.errors import Expired
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import ResourceType
from slagate.sandbox.objects.selection import Selection


class EventType(StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True)
class WatchEvent:
    """One change. ``object`` is the state after it (the last state for DELETED);
    ``previous`` the state before a MODIFIED; ``revision`` the global resourceVersion."""

    type: EventType
    object: RawObject
    revision: int
    previous: RawObject | None = None

    def copied(self) -> WatchEvent:
        return replace(self, object=copy.deepcopy(self.object), previous=None)


class EventLog:
    """Per-resource ring buffers of ``capacity`` events. Not locked: the store holds its
    lock around every call."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"event window must hold at least 1 event, got {capacity}")
        self._capacity = capacity
        self._events: dict[ResourceType, deque[WatchEvent]] = {}
        self._evicted: dict[ResourceType, int] = {}

    def append(self, resource: ResourceType, event: WatchEvent) -> None:
        events = self._events.setdefault(resource, deque())
        if len(events) == self._capacity:
            self._evicted[resource] = events.popleft().revision
        events.append(event)

    def since(self, resource: ResourceType, revision: int) -> list[WatchEvent]:
        """Events of ``resource`` after ``revision``, oldest first; ``Expired`` if some of
        them were already evicted."""
        evicted = self._evicted.get(resource, 0)
        if revision < evicted:
            raise Expired(f"too old resource version: {revision} ({evicted})")
        newer: list[WatchEvent] = []
        for event in reversed(self._events.get(resource, ())):
            if event.revision <= revision:
                break
            newer.append(event)
        newer.reverse()
        return newer


def translate(event: WatchEvent, selection: Selection) -> WatchEvent | None:
    """The event as a watcher with ``selection`` sees it, or None if it does not see it."""
    matches_now = selection.matches(event.object)
    if event.type is not EventType.MODIFIED:
        return event if matches_now else None
    matched_before = event.previous is not None and selection.matches(event.previous)
    if matches_now:
        return event if matched_before else replace(event, type=EventType.ADDED)
    return replace(event, type=EventType.DELETED) if matched_before else None


class Feed(Protocol):
    """What a ``Watcher`` needs from the store (``ObjectStore`` implements it)."""

    def wait_for_events(
        self, resource: ResourceType, after: int, timeout_s: float, watcher: Watcher
    ) -> tuple[list[WatchEvent], int]:
        """Block until ``resource`` has events after ``after``, ``timeout_s`` passed or
        ``watcher`` closed; return them and the revision the watcher has now seen."""
        ...

    def wake_watchers(self) -> None:
        """Wake every blocked ``wait_for_events`` so it re-checks its watcher."""
        ...


class Watcher:
    """An in-process watch: ``poll()`` returns the next events (possibly none).

    Start one with ``ObjectStore.watch``. Without a start revision the first poll
    returns a synthetic ADDED per matching object, as a watch from ``"0"`` does.
    """

    def __init__(
        self, feed: Feed, selection: Selection, revision: int, initial: list[WatchEvent]
    ) -> None:
        self.selection = selection
        self._feed = feed
        self._revision = revision
        self._pending = initial
        self.close_reason: str | None = None

    @property
    def revision(self) -> int:
        """The revision up to which every event has been delivered (for BOOKMARKs)."""
        return self._revision

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    def poll(self, timeout_s: float) -> list[WatchEvent]:
        """Next events, deep copies the caller may change. ``Expired`` if it fell behind."""
        return [event.copied() for event in self.poll_shared(timeout_s)]

    def poll_shared(self, timeout_s: float) -> list[WatchEvent]:
        """Like ``poll`` without copying: the objects are the store's, read them only."""
        if self._pending:
            pending, self._pending = self._pending, []
            return pending
        if self.closed:
            return []
        raw, self._revision = self._feed.wait_for_events(
            self.selection.resource, self._revision, timeout_s, self
        )
        return [e for e in (translate(r, self.selection) for r in raw) if e is not None]

    def close(self, reason: str = "closed") -> None:
        """Stop the watch; a blocked ``poll`` returns at once. Idempotent."""
        if self.close_reason is None:
            self.close_reason = reason
        self._feed.wake_watchers()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
