"""List and watch over the official client, as raw JSON, closable from any thread.

``list_objects`` pages through a list (``limit=500``, as kubectl) and returns the items
with the list's resourceVersion. ``open_watch`` starts one watch from a resourceVersion
(``allowWatchBookmarks``, a server-side ``timeoutSeconds``) and returns a ``WatchStream``
whose ``events()`` yield until the server ends the body (timeout, cut) or ``close()`` is
called from another thread: close shuts the socket down under the blocked reader, so a
stop never waits for the server timeout. A 410 (as an ERROR event or as the answer) is a
``ResourceExpired``: list again.

``StopSignal`` is the one switch a group of threads stops on; streams opened under
``watching`` are closed the moment it is set.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import urllib3
from kubernetes import client

from slagate.errors import KubernetesError, ResourceExpired
from slagate.kube.bodies import RawObject, WatchEventType, resource_version_of
from slagate.kube.connecting import api_call, api_error
from slagate.kube.resources import ListCall

logger = logging.getLogger(__name__)
PAGE_SIZE = 500
CONNECT_TIMEOUT_S = 10.0
READ_SLACK_S = 30.0  # a watch silent this long past its server timeout is a dead connection


class WatchEvent(NamedTuple):
    type: WatchEventType  # never ERROR: that is raised
    object: RawObject

    @property
    def resource_version(self) -> str:
        return resource_version_of(self.object)


class Listing(NamedTuple):
    items: list[RawObject]
    resource_version: str


@dataclass(frozen=True)
class Query:
    """What to list or watch: a namespace and optional selectors (query-string syntax)."""

    namespace: str
    label_selector: str | None = None
    field_selector: str | None = None

    def params(self) -> dict[str, str]:
        params = {}
        if self.label_selector:
            params["label_selector"] = self.label_selector
        if self.field_selector:
            params["field_selector"] = self.field_selector
        return params

    def describe(self, verb: str, plural: str) -> str:
        selectors = ",".join(s for s in (self.label_selector, self.field_selector) if s)
        where = f" matching {selectors}" if selectors else ""
        return f"{verb} {plural}{where} in namespace {self.namespace}"


def list_objects(
    call: ListCall, query: Query, *, plural: str, server: str, timeout_s: float
) -> Listing:
    """Every matching object and the resourceVersion to watch from."""
    items: list[RawObject] = []
    token: str | None = None
    version = ""
    request = query.describe("LIST", plural)
    while True:
        page = {"_continue": token} if token else {}
        with _expiry(request), api_call(request, server):
            response = call(
                query.namespace,
                limit=PAGE_SIZE,
                _preload_content=False,
                _request_timeout=timeout_s,
                **query.params(),
                **page,
            )
            body = read_json(response, request)
        metadata = body.get("metadata") or {}
        items.extend(body.get("items") or [])
        version = version or str(metadata.get("resourceVersion", ""))
        token = metadata.get("continue") or None
        if not token:
            return Listing(items, version)


def read_json(response: Any, request: str) -> dict[str, Any]:
    try:
        body = json.loads(response.data)
    except ValueError as e:
        raise KubernetesError(f"{request}: the API server sent no JSON: {e}") from e
    finally:
        response.release_conn()
    if not isinstance(body, dict):
        raise KubernetesError(f"{request}: expected a JSON object, got {type(body).__name__}")
    return cast(dict[str, Any], body)


@contextlib.contextmanager
def _expiry(request: str) -> Iterator[None]:
    try:
        yield
    except client.ApiException as e:
        if e.status == 410:
            raise ResourceExpired(str(api_error(e, request))) from e
        raise


def open_watch(
    call: ListCall,
    query: Query,
    resource_version: str,
    *,
    plural: str,
    server: str,
    timeout_s: float,
) -> WatchStream:
    """Start a watch; the server ends it cleanly after ``timeout_s`` (whole seconds)."""
    request = query.describe("WATCH", plural) + f" from resourceVersion {resource_version}"
    seconds = max(1, int(timeout_s))
    with _expiry(request), api_call(request, server):
        response = call(
            query.namespace,
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=seconds,
            _preload_content=False,
            _request_timeout=(CONNECT_TIMEOUT_S, seconds + READ_SLACK_S),
            **query.params(),
        )
    return WatchStream(response, request)


class WatchStream:
    """One open watch response. ``events()`` from one thread, ``close()`` from any;
    ``release()`` (done by ``StopSignal.watching``) returns or drops the connection."""

    def __init__(self, response: Any, request: str) -> None:
        self.request = request
        self._response = response
        self._closed = threading.Event()
        self._finished = False

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def events(self) -> Iterator[WatchEvent]:
        """Events until the body ends or ``close()``; ``ResourceExpired`` on 410, a
        ``KubernetesError`` on another ERROR event or a dropped connection."""
        try:
            for line in self._lines():
                event = self._decode(line)
                if event is not None:
                    yield event
        except (urllib3.exceptions.HTTPError, OSError) as e:
            if not self.closed:
                raise KubernetesError(f"{self.request}: the stream broke: {e}") from e
            return
        self._finished = not self.closed

    def _lines(self) -> Iterator[bytes]:
        buffer = b""
        for chunk in self._response.stream(amt=None, decode_content=False):
            if self.closed:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            yield from (line for line in lines if line.strip())

    def _decode(self, line: bytes) -> WatchEvent | None:
        try:
            body = json.loads(line)
            kind, obj = WatchEventType(body["type"]), body["object"]
        except (ValueError, KeyError, TypeError) as e:
            raise KubernetesError(f"{self.request}: undecodable watch line: {e}") from e
        if kind is WatchEventType.ERROR:
            raise _watch_error(obj, self.request)
        return WatchEvent(kind, obj) if isinstance(obj, dict) else None

    def close(self) -> None:
        """End the stream now: shut the socket down so a blocked read returns."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._response.shutdown()  # urllib3 >= 2.3
        except (AttributeError, ValueError, RuntimeError, OSError) as e:
            # older urllib3 (no shutdown), no socket to shut, or already released/closed:
            # shut the raw socket if there is one, else the stream has ended anyway
            logger.debug("%s: shutting the response down: %r", self.request, e)
            sock = getattr(getattr(self._response, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):  # already shut or closed: what we want
                    sock.shutdown(socket.SHUT_RDWR)

    def release(self) -> None:
        """Give the connection back: kept for reuse after a body that ended cleanly,
        dropped otherwise (unread data or a shut socket). Idempotent."""
        finished, self._finished = self._finished, False
        self._closed.set()
        try:
            if not finished:
                self._response.close()
            self._response.release_conn()
        except (OSError, urllib3.exceptions.HTTPError) as e:
            # a connection that fails while closing is dropped either way; nothing to do
            logger.debug("%s: releasing the connection: %r", self.request, e)


def _watch_error(obj: Any, request: str) -> KubernetesError:
    status = obj if isinstance(obj, dict) else {}
    code, message = status.get("code"), status.get("message", "")
    if code == 410:
        return ResourceExpired(f"{request}: HTTP 410 {status.get('reason', 'Expired')}: {message}")
    return KubernetesError(f"{request}: the watch failed: HTTP {code}: {message}")


class StopSignal:
    """A one-way stop switch for threads that list and watch.

    ``set()`` wakes every ``wait`` and closes every stream opened under ``watching``, so
    threads blocked in a watch return at once.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._streams: set[WatchStream] = set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout_s: float | None) -> bool:
        """Sleep up to ``timeout_s``; True if stopped meanwhile."""
        return self._event.wait(timeout_s)

    def set(self) -> None:
        with self._lock:
            self._event.set()
            streams = list(self._streams)
        for stream in streams:
            stream.close()

    @contextlib.contextmanager
    def watching(self, stream: WatchStream) -> Iterator[WatchStream]:
        """Register ``stream`` for the block (closed at once if stopped); release it after."""
        with self._lock:
            self._streams.add(stream)
            stopped = self._event.is_set()
        if stopped:
            stream.close()
        try:
            yield stream
        finally:
            with self._lock:
                self._streams.discard(stream)
            stream.release()
