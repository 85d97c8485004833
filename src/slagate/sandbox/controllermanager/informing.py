"""Informers: one thread per resource type that lists, then watches, and tells handlers.

An ``Informer`` is client-go's shared informer over the in-process store: list every
object, watch from the list's revision, re-list when the watch expires (410), and keep a
cache of what it has seen so a re-list can report what changed or vanished in between.
Controllers register handlers that turn changes into work-queue keys; they read the
objects they act on from the store itself, which is always current, so they need no
"expectations" to cover for a stale cache.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slagate.errors import Expired
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watching import EventType, WatchEvent
from slagate.sandbox.controllermanager.owners import Key, key_of
from slagate.sandbox.objects.bodies import RawObject, metadata, namespace_of
from slagate.sandbox.objects.resources import ResourceType
from slagate.sandbox.objects.selection import Selection

logger = logging.getLogger(__name__)

Handler = Callable[[EventType, RawObject, RawObject | None], None]
"""Called with the change, the object (its last state for DELETED) and the state before
(None for ADDED). Runs on the informer's thread: keep it short, never block."""

POLL_S = 1.0
"""Longest a watch poll blocks before re-checking for a stop (seconds)."""


class Informer:
    """Lists and watches ``resource`` in all namespaces for its handlers.

    ``on_activity`` is called after each batch of changes was handed to the handlers
    (the manager counts them to tell when everything has settled).
    """

    def __init__(
        self,
        store: ObjectStore,
        resource: ResourceType,
        on_activity: Callable[[], None] = lambda: None,
    ) -> None:
        self.resource = resource
        self._store = store
        self._on_activity = on_activity
        self._handlers: list[Handler] = []
        self._cache: dict[Key, RawObject] = {}
        self._lock = threading.Lock()
        self._handled_revision = 0
        self._synced = threading.Event()
        self._stopping = threading.Event()
        self._watcher_closer: Callable[[], None] | None = None

    def add_handler(self, handler: Handler) -> None:
        """Register before ``run`` starts; handlers see every object from the first list."""
        self._handlers.append(handler)

    def objects(self, namespace: str | None = None) -> list[RawObject]:
        """Cached objects (read only), optionally of one namespace."""
        with self._lock:
            return [o for o in self._cache.values() if namespace in (None, namespace_of(o))]

    def cached(self, namespace: str, name: str) -> RawObject | None:
        with self._lock:
            return self._cache.get((namespace, name))

    def run(self) -> None:
        """The informer thread: list, watch, re-list on 410, until ``stop``."""
        while not self._stopping.is_set():
            try:
                self._list_and_watch()
            except Expired as error:
                logger.info("%s watch expired (%s); listing again", self.resource, error)
            except Exception:
                logger.exception("%s informer failed; listing again", self.resource)
                self._stopping.wait(0.5)

    def stop(self) -> None:
        self._stopping.set()
        closer = self._watcher_closer
        if closer is not None:
            closer()

    def caught_up(self) -> bool:
        """Every stored change of the resource has been handed to the handlers."""
        if not self._synced.is_set():
            return False
        try:
            with self._store.watch(Selection(self.resource), since=self._handled_revision) as w:
                return not w.poll_shared(timeout_s=0.0)
        except Expired:
            return False

    def _list_and_watch(self) -> None:
        listing = self._store.list(Selection(self.resource))
        self._replace(listing.items)
        self._handled_revision = listing.revision
        self._synced.set()
        self._on_activity()
        with self._store.watch(Selection(self.resource), since=listing.revision) as watcher:
            self._watcher_closer = watcher.close
            while not self._stopping.is_set():
                events = watcher.poll(timeout_s=POLL_S)
                for event in events:
                    self._apply(event)
                self._handled_revision = watcher.revision
                if events:
                    self._on_activity()

    def _replace(self, items: list[RawObject]) -> None:
        """A fresh list: report what is new, changed or gone since the cache was filled."""
        fresh = {key_of(obj): obj for obj in items}
        with self._lock:
            previous, self._cache = self._cache, dict(fresh)
        for key, obj in fresh.items():
            old = previous.get(key)
            if old is None:
                self._dispatch(EventType.ADDED, obj, None)
            elif _version(old) != _version(obj):
                self._dispatch(EventType.MODIFIED, obj, old)
        for key, old in previous.items():
            if key not in fresh:
                self._dispatch(EventType.DELETED, old, old)

    def _apply(self, event: WatchEvent) -> None:
        key = key_of(event.object)
        with self._lock:
            if event.type is EventType.DELETED:
                old = self._cache.pop(key, None)
            else:
                old = self._cache.get(key)
                self._cache[key] = event.object
        self._dispatch(event.type, event.object, old)

    def _dispatch(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        for handler in self._handlers:
            try:
                handler(kind, obj, old)
            except Exception:
                logger.exception("a %s handler failed on %s %s", self.resource, kind, key_of(obj))


def _version(obj: RawObject) -> object:
    return metadata(obj).get("resourceVersion")
