"""List-then-watch with the official Kubernetes client, one blocking thread per resource.

What ``kubernetes.informer`` and client-go's reflector do: list, hand the whole list over,
then watch from the list's resourceVersion; a watch that ends cleanly (its
``timeoutSeconds`` ran out) resumes from the last resourceVersion seen (BOOKMARKs
included); a 410 Expired, a dropped stream or any other error re-lists after a short
back-off. The threads only read the API; every result goes to the asyncio loop with
``call_soon_threadsafe``, so the proxy's state is touched by the loop's thread alone.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from slagate.sandbox.objects.bodies import RawObject

logger = logging.getLogger(__name__)

WATCH_TIMEOUT_S = 30
"""Server-side ``timeoutSeconds`` of each watch request; the watch then resumes."""
BACKOFF_INITIAL_S = 0.2
BACKOFF_MAX_S = 5.0
_QUICK_END_S = 1.0

ListCall = Callable[..., Any]
"""A ``list_*`` method of a generated client API, e.g. ``CoreV1Api.list_namespaced_service``."""


@dataclass(frozen=True)
class Listed:
    """A fresh list: every object, replacing what was known."""

    resource: str
    items: list[RawObject]


@dataclass(frozen=True)
class Changed:
    """One watch event: ``event_type`` is ADDED, MODIFIED or DELETED."""

    resource: str
    event_type: str
    obj: RawObject


Delivery = Callable[[Listed | Changed], None]


class Informer:
    """Keeps ``deliver`` (called on the loop via ``post``) up to date with one resource.

    ``post(callback, item)`` must hand ``callback(item)`` to the consumer's thread, e.g.
    ``loop.call_soon_threadsafe``. ``kwargs`` go to every list and watch call
    (``namespace=...``, ``label_selector=...``).
    """

    def __init__(
        self,
        resource: str,
        list_call: ListCall,
        post: Callable[[Delivery, Listed | Changed], object],
        deliver: Delivery,
        *,
        watch_timeout_s: int = WATCH_TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        self.resource = resource
        self._list_call = list_call
        self._post = post
        self._deliver = deliver
        self._watch_timeout_s = watch_timeout_s
        self._kwargs = kwargs
        self._stopped = threading.Event()
        self._watch: watch.Watch | None = None
        self._thread = threading.Thread(target=self._run, name=f"informer-{resource}", daemon=True)

    def start(self) -> Informer:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 0.0) -> None:
        """Ask the thread to end; it does at the next event or watch timeout (daemon)."""
        self._stopped.set()
        if self._watch is not None:
            self._watch.stop()  # type: ignore[no-untyped-call]
        if timeout_s:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        backoff = BACKOFF_INITIAL_S
        while not self._stopped.is_set():
            try:
                revision = self._list()
                backoff = BACKOFF_INITIAL_S
                self._watch_from(revision)
            except Exception as error:  # any failure means: list again
                self._note_failure(error)
            if self._stopped.wait(backoff):
                return
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _note_failure(self, error: Exception) -> None:
        if self._stopped.is_set():
            return  # the connection was closed under us on purpose
        if isinstance(error, ApiException):
            if error.status != 410:  # 410 Expired is routine: the history moved on
                logger.warning(
                    "%s: list/watch failed (%s); re-listing", self.resource, error.status
                )
        else:
            logger.warning("%s: list/watch failed (%r); re-listing", self.resource, error)

    def _list(self) -> str:
        response = self._list_call(**self._kwargs, _preload_content=False)
        body = json.loads(response.data)
        items = body.get("items") or []
        self._post(self._deliver, Listed(self.resource, items))
        return str(body["metadata"]["resourceVersion"])

    def _watch_from(self, revision: str) -> None:
        """Watch until an error; each clean end resumes from the last revision seen."""
        while not self._stopped.is_set():
            self._watch = watch.Watch()  # type: ignore[no-untyped-call]
            stream = self._watch.stream(  # type: ignore[no-untyped-call]
                self._list_call,
                **self._kwargs,
                resource_version=revision,
                allow_watch_bookmarks=True,
                timeout_seconds=self._watch_timeout_s,
                _request_timeout=self._watch_timeout_s + 10,
            )
            started, seen = time.monotonic(), 0
            for event in stream:
                seen += 1
                raw: RawObject = event["raw_object"]
                revision = str(raw.get("metadata", {}).get("resourceVersion") or revision)
                if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    self._post(self._deliver, Changed(self.resource, event["type"], raw))
            if not seen and time.monotonic() - started < _QUICK_END_S:
                self._stopped.wait(BACKOFF_INITIAL_S)  # a server ending watches at once: no spin
