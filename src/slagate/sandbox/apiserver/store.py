"""The sandbox's object store: every object, one revision counter, the watch history.

One ``threading.RLock`` guards everything and one ``Condition`` on it wakes watchers, so
the HTTP server threads and, later, controller threads share it safely. Each write bumps
the global revision (``metadata.resourceVersion`` on the wire), records a ``WatchEvent``
and notifies waiting watchers. Everything handed out is a deep copy, so callers may
change what they get without touching stored state.

In-process use (what controllers do instead of HTTP)::

    snapshot = store.list(Selection(PODS, "default"))
    with store.watch(Selection(PODS, "default"), since=snapshot.revision) as watcher:
        for event in watcher.poll(timeout_s=1.0): ...
    store.modify(DEPLOYMENTS, "default", "web", set_replicas, subresource="status")
"""

from __future__ import annotations

import builtins
import copy
import ipaddress
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from slagate.errors import AlreadyExists, BadRequest, NotFound, StatusDetails
from slagate.sandbox.apiserver.customresources import custom_types
from slagate.sandbox.apiserver.deleting import DeleteHook, DeleteOptions
from slagate.sandbox.apiserver.strategies import (
    check_resource_version,
    conflict,
    prepare_create,
    prepare_update,
)
from slagate.sandbox.apiserver.watching import EventLog, EventType, Watcher, WatchEvent
from slagate.sandbox.objects.bodies import (
    RawObject,
    metadata,
    name_of,
    namespace_of,
    utc_now,
)
from slagate.sandbox.objects.resources import (
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
    RESOURCE_TYPES,
    ResourceType,
)
from slagate.sandbox.objects.selection import Selection

DEFAULT_EVENT_WINDOW = 1000
"""Events kept per resource type for watches that resume from a resourceVersion."""
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FIRST_CLUSTER_IP = ipaddress.IPv4Address("10.96.0.10")

Change = Callable[[RawObject], RawObject]
"""Turns (a copy of) the stored object into the body to store: a patch, a status write."""


@dataclass(frozen=True)
class ObjectList:
    """A consistent list: the matching objects and the revision they were read at."""

    items: list[RawObject]
    revision: int

    @property
    def resource_version(self) -> str:
        return str(self.revision)


@dataclass(frozen=True)
class Deletion:
    """What a delete did: ``removed`` False when a hook kept the object (terminating)."""

    object: RawObject
    removed: bool


class _Allocator:
    def __init__(self, new_uid: Callable[[], str], rng: random.Random) -> None:
        self._new_uid = new_uid
        self._rng = rng
        self._next_ip = _FIRST_CLUSTER_IP

    def uid(self) -> str:
        return self._new_uid()

    def name_suffix(self) -> str:
        return "".join(self._rng.choice(_SUFFIX_ALPHABET) for _ in range(5))

    def cluster_ip(self) -> str:
        address, self._next_ip = self._next_ip, self._next_ip + 1
        return str(address)


class ObjectStore:
    """Thread-safe store of Kubernetes objects with watchable history.

    ``event_window``: events kept per resource type; a watch from an older revision is
    ``Expired`` (410). ``clock``: wall time for creation and deletion timestamps.
    ``namespaces``: created at start (``default`` must exist for most clients).
    """

    def __init__(
        self,
        *,
        event_window: int = DEFAULT_EVENT_WINDOW,
        clock: Callable[[], datetime] = utc_now,
        new_uid: Callable[[], str] = lambda: str(uuid.uuid4()),
        rng: random.Random | None = None,
        namespaces: Iterable[str] = ("default", "kube-system"),
    ) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[ResourceType, dict[tuple[str, str], RawObject]] = {
            resource: {} for resource in RESOURCE_TYPES
        }
        self._custom: tuple[ResourceType, ...] = ()
        self._revision = 0
        self._log = EventLog(event_window)
        self._hooks: dict[ResourceType, DeleteHook] = {}
        self._clock = clock
        self._allocator = _Allocator(new_uid, rng or random.Random())
        for name in namespaces:
            self.create(NAMESPACES, {"metadata": {"name": name}})

    @property
    def revision(self) -> int:
        """The global revision: the resourceVersion of the latest write."""
        with self._lock:
            return self._revision

    def served_types(self) -> tuple[ResourceType, ...]:
        """The built-in types, then one per served version of every stored
        CustomResourceDefinition (in CRD name order)."""
        with self._lock:
            return RESOURCE_TYPES + self._custom

    def now(self) -> datetime:
        """The store's wall clock (creation and deletion timestamps, table ages)."""
        return self._clock()

    def set_delete_hook(self, resource: ResourceType, hook: DeleteHook | None) -> None:
        """Install (or with None remove) the hook deciding what a delete of ``resource``
        does; see ``slagate.sandbox.apiserver.deleting``."""
        with self._lock:
            if hook is None:
                self._hooks.pop(resource, None)
            else:
                self._hooks[resource] = hook

    # -- reads ---------------------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str | None, name: str) -> RawObject:
        with self._lock:
            return at_version(resource, copy.deepcopy(self._require(resource, namespace, name)))

    def list(self, selection: Selection) -> ObjectList:
        """Matching objects ordered by namespace and name, as etcd keys order them."""
        with self._lock:
            items = [
                at_version(selection.resource, copy.deepcopy(o)) for o in self._matching(selection)
            ]
            return ObjectList(items, self._revision)

    def watch(self, selection: Selection, since: int | str | None = None) -> Watcher:
        """Subscribe to changes after revision ``since``.

        None, 0 or "0": first a synthetic ADDED for every matching object, then changes.
        A revision older than the kept window raises ``Expired``: list again and watch
        from the list's revision.
        """
        with self._lock:
            revision = _parse_revision(since)
            if revision == 0:
                initial = [
                    WatchEvent(EventType.ADDED, obj, self._revision)
                    for obj in self._matching(selection)
                ]
                return Watcher(self, selection, self._revision, initial)
            self._log.since(selection.resource.stored_as, revision)
            return Watcher(self, selection, revision, [])

    def wait_for_events(
        self, resource: ResourceType, after: int, timeout_s: float, watcher: Watcher
    ) -> tuple[builtins.list[WatchEvent], int]:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                events = self._log.since(resource.stored_as, after)
                remaining = deadline - time.monotonic()
                if events or watcher.closed or remaining <= 0:
                    return events, max(after, self._revision)
                self._changed.wait(remaining)

    def wake_watchers(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- writes --------------------------------------------------------------------------

    def create(
        self, resource: ResourceType, body: RawObject, namespace: str | None = None
    ) -> RawObject:
        """Store a new object (201 on the wire); ``AlreadyExists`` if the name is taken."""
        with self._lock:
            self._require_namespace(resource, namespace)
            obj = prepare_create(resource, body, namespace, self._clock(), self._allocator)
            if (namespace_of(obj), name_of(obj)) in self._objects.get(resource.stored_as, {}):
                raise AlreadyExists(
                    f'{resource.qualified_plural} "{name_of(obj)}" already exists',
                    _details(resource, name_of(obj)),
                )
            return copy.deepcopy(self._commit(resource, EventType.ADDED, obj, None))

    def replace(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        body: RawObject,
        subresource: str = "",
    ) -> RawObject:
        """PUT: ``Conflict`` if ``body`` carries a stale resourceVersion."""
        return self.modify(resource, namespace, name, lambda _current: body, subresource)

    def modify(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        change: Change,
        subresource: str = "",
    ) -> RawObject:
        """Atomic read-modify-write: ``change`` gets a copy of the stored object and returns
        the body to store. A body naming another resourceVersion is a ``Conflict``; a body
        equal to the stored object writes nothing (no new revision, no event)."""
        with self._lock:
            current = self._require(resource, namespace, name)
            body = change(at_version(resource, copy.deepcopy(current)))
            check_resource_version(resource, current, body)
            new = prepare_update(resource, current, body, subresource)
            return copy.deepcopy(self._update(resource, current, new))

    def delete(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        options: DeleteOptions | None = None,
    ) -> Deletion:
        """Remove an object, or keep it if its type's delete hook says so."""
        with self._lock:
            current = self._require(resource, namespace, name)
            return self._delete(resource, current, options or DeleteOptions())

    def delete_collection(
        self, selection: Selection, options: DeleteOptions | None = None
    ) -> builtins.list[Deletion]:
        with self._lock:
            deletions = []
            for obj in list(self._matching(selection)):
                current = self._objects.get(selection.resource.stored_as, {}).get(
                    (namespace_of(obj), name_of(obj))
                )
                if current is not None:  # an earlier delete may have collected it already
                    deletions.append(
                        self._delete(selection.resource, current, options or DeleteOptions())
                    )
            return deletions

    # -- internals (lock held) -------------------------------------------------------------

    def _matching(self, selection: Selection) -> Iterable[RawObject]:
        objects = self._objects.get(selection.resource.stored_as, {})
        return [objects[key] for key in sorted(objects) if selection.matches(objects[key])]

    def _require(self, resource: ResourceType, namespace: str | None, name: str) -> RawObject:
        objects = self._objects.get(resource.stored_as, {})
        obj = objects.get((namespace or "" if resource.namespaced else "", name))
        if obj is None:
            raise NotFound(
                f'{resource.qualified_plural} "{name}" not found', _details(resource, name)
            )
        return obj

    def _require_namespace(self, resource: ResourceType, namespace: str | None) -> None:
        if not resource.namespaced:
            return
        if not namespace:
            raise BadRequest(f"{resource.plural} are namespaced: the request needs a namespace")
        self._require(NAMESPACES, None, namespace)

    def _commit(
        self, resource: ResourceType, kind: EventType, obj: RawObject, previous: RawObject | None
    ) -> RawObject:
        self._revision += 1
        metadata(obj)["resourceVersion"] = str(self._revision)
        key = (namespace_of(obj), name_of(obj))
        if kind is EventType.DELETED:
            del self._objects[resource.stored_as][key]
        else:
            self._objects.setdefault(resource.stored_as, {})[key] = obj
        self._log.append(resource.stored_as, WatchEvent(kind, obj, self._revision, previous))
        self._changed.notify_all()
        if resource is CUSTOM_RESOURCE_DEFINITIONS:
            self._sync_custom_types()
        return obj

    def _sync_custom_types(self) -> None:
        """Serve what the stored CRDs define; a type no CRD defines any more takes its
        objects along (DELETED events), as upstream deletes a CRD's resources."""
        crds = self._objects[CUSTOM_RESOURCE_DEFINITIONS]
        served = tuple(t for key in sorted(crds) for t in custom_types(crds[key]))
        kept = {t.stored_as for t in served}
        gone = {t.stored_as for t in self._custom} - kept
        self._custom = served
        for resource in sorted(gone, key=str):
            for obj in list(self._objects.get(resource.stored_as, {}).values()):
                self._commit(resource, EventType.DELETED, copy.deepcopy(obj), obj)

    def _update(self, resource: ResourceType, current: RawObject, new: RawObject) -> RawObject:
        if new == current:
            return current
        return self._commit(resource, EventType.MODIFIED, new, current)

    def _delete(
        self, resource: ResourceType, current: RawObject, options: DeleteOptions
    ) -> Deletion:
        _check_preconditions(resource, current, options)
        hook = self._hooks.get(resource)
        kept = hook(copy.deepcopy(current), options) if hook else None
        if kept is not None:
            return Deletion(copy.deepcopy(self._keep(resource, current, kept)), removed=False)
        gone = self._commit(resource, EventType.DELETED, copy.deepcopy(current), current)
        self._delete_dependents(resource, gone, options)
        return Deletion(copy.deepcopy(gone), removed=True)

    def _keep(self, resource: ResourceType, current: RawObject, kept: RawObject) -> RawObject:
        meta, old_meta = metadata(kept), metadata(current)
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp"):
            meta[key] = old_meta.get(key)
        if "deletionTimestamp" in meta and "deletionTimestamp" not in old_meta:
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        return self._update(resource, current, kept)

    def _delete_dependents(
        self, resource: ResourceType, owner: RawObject, options: DeleteOptions
    ) -> None:
        """Synchronous garbage collection: a namespace takes its contents along, an owner
        its dependents (ownerReferences), unless the policy is ``Orphan``."""
        if options.propagation_policy == "Orphan" and resource is not NAMESPACES:
            return
        dependent = _dependent_test(resource, owner)
        for other in RESOURCE_TYPES + self._custom:
            for obj in [o for o in self._objects.get(other.stored_as, {}).values() if dependent(o)]:
                if (namespace_of(obj), name_of(obj)) in self._objects.get(other.stored_as, {}):
                    self._delete(other, obj, DeleteOptions(propagation_policy="Background"))


def at_version(resource: ResourceType, obj: RawObject) -> RawObject:
    """``obj`` as read at ``resource``'s version (a custom kind's versions share storage)."""
    if resource.custom:
        obj["apiVersion"] = resource.api_version
    return obj


def _dependent_test(resource: ResourceType, owner: RawObject) -> Callable[[RawObject], bool]:
    if resource is NAMESPACES:
        return lambda obj: namespace_of(obj) == name_of(owner)
    uid = metadata(owner).get("uid")
    scope = namespace_of(owner)

    def owned(obj: RawObject) -> bool:
        refs = metadata(obj).get("ownerReferences") or []
        in_scope = not resource.namespaced or namespace_of(obj) == scope
        return in_scope and any(isinstance(r, dict) and r.get("uid") == uid for r in refs)

    return owned


def _check_preconditions(resource: ResourceType, obj: RawObject, options: DeleteOptions) -> None:
    meta = metadata(obj)
    uid_ok = options.precondition_uid in (None, meta.get("uid"))
    rv_ok = options.precondition_resource_version in (None, meta.get("resourceVersion"))
    if not (uid_ok and rv_ok):
        raise conflict(resource, name_of(obj))


def _parse_revision(since: int | str | None) -> int:
    if since is None or since == "":
        return 0
    try:
        revision = int(since)
    except ValueError as error:
        raise BadRequest(f"invalid resourceVersion {since!r}: expected an integer") from error
    if revision < 0:
        raise BadRequest(f"invalid resourceVersion {since!r}: must not be negative")
    return revision


def _details(resource: ResourceType, name: str) -> StatusDetails:
    return {"name": name, "group": resource.group, "kind": resource.plural}
