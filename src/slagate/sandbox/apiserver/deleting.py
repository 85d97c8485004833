"""Delete options and the delete hook: how a later kubelet keeps a pod while it stops.

By default a delete removes the object at once. A ``DeleteHook`` registered for a type
(``ObjectStore.set_delete_hook``) may instead return the object to keep, typically with
``metadata.deletionTimestamp`` set; the store stores it (a MODIFIED event) and removes it
only when a later delete's hook returns None. ``GracefulDeletion`` is upstream's pod
behaviour, ready for the kubelet to install.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from slagate.errors import BadRequest
from slagate.sandbox.objects.bodies import RawObject, mapping_at, metadata, rfc3339, utc_now

_PROPAGATION = (None, "Orphan", "Background", "Foreground")


@dataclass(frozen=True)
class DeleteOptions:
    """``DeleteOptions`` from the query string or body of a DELETE.

    ``grace_period_seconds`` None means the object's own default. A propagation policy
    other than ``Orphan`` deletes dependents (ownerReferences) once the owner is gone.
    """

    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None

    @classmethod
    def from_json(cls, body: Any, query: dict[str, str]) -> DeleteOptions:
        """Merge a DeleteOptions body with query parameters (the query wins)."""
        raw = body if isinstance(body, dict) else {}
        preconditions = raw.get("preconditions") or {}
        grace = query.get("gracePeriodSeconds", raw.get("gracePeriodSeconds"))
        policy = query.get("propagationPolicy", raw.get("propagationPolicy"))
        if policy not in _PROPAGATION:
            raise BadRequest(f"unknown propagationPolicy {policy!r}")
        return cls(
            _int_or_none(grace),
            policy,
            preconditions.get("uid"),
            preconditions.get("resourceVersion"),
        )


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise BadRequest(f"gracePeriodSeconds must be an integer, got {value!r}") from error


class DeleteHook(Protocol):
    """Decide what a delete does to one object.

    Called under the store's lock with a copy of the stored object: return None to
    remove it now, or the object to keep (changed as needed). It must not call the store.
    """

    def __call__(self, obj: RawObject, options: DeleteOptions) -> RawObject | None: ...


@dataclass(frozen=True)
class GracefulDeletion:
    """Upstream pod deletion: the first delete sets ``deletionTimestamp`` (now + grace) and
    ``deletionGracePeriodSeconds``; a later delete with a shorter grace shortens it; grace
    0, or a pod already Succeeded/Failed, removes it."""

    clock: Callable[[], datetime] = field(default=utc_now)

    def __call__(self, obj: RawObject, options: DeleteOptions) -> RawObject | None:
        grace = options.grace_period_seconds
        if grace is None:
            grace = int(mapping_at(obj, "spec").get("terminationGracePeriodSeconds", 30))
        if grace <= 0 or mapping_at(obj, "status").get("phase") in ("Succeeded", "Failed"):
            return None
        meta = metadata(obj)
        current = meta.get("deletionGracePeriodSeconds")
        if isinstance(current, int) and current <= grace:
            return obj
        meta["deletionTimestamp"] = rfc3339(self.clock() + timedelta(seconds=grace))
        meta["deletionGracePeriodSeconds"] = grace
        return obj
