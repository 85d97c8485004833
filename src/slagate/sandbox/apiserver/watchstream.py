"""Streaming one watch: JSON lines, BOOKMARKs, timeouts, cuts and the 410 ERROR event.

Independent of HTTP: the server hands in a ``LineSink`` that writes one chunk per line
and can tell whether the client hung up. The loop never holds the store lock while
writing, so a slow client only slows itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from slagate.errors import ApiError, Expired
from slagate.sandbox.apiserver.messages import WatchPlan
from slagate.sandbox.apiserver.statuses import status_body
from slagate.sandbox.apiserver.watching import Watcher
from slagate.sandbox.objects.bodies import RawObject, StatusBody, WatchEventBody
from slagate.sandbox.objects.resources import ResourceType


class StreamEnd(StrEnum):
    """Why a watch stream ended; ``CUT_ABRUPT`` asks the server to drop the connection."""

    TIMEOUT = "timeout"
    EXPIRED = "expired"
    CUT = "cut"
    CUT_ABRUPT = "cut-abrupt"
    STOPPED = "stopped"
    CLIENT_GONE = "client-gone"


class LineSink(Protocol):
    def send(self, line: bytes) -> None:
        """Write one line to the client; raise ``OSError`` if it is gone."""
        ...

    def client_gone(self) -> bool:
        """True once the client closed its side (checked while the watch is idle)."""
        ...


@dataclass(frozen=True)
class StreamTiming:
    """``bookmark_interval_s``: seconds between BOOKMARKs (upstream: about 60).
    ``liveness_check_s``: how often an idle stream checks its client is still there."""

    bookmark_interval_s: float = 60.0
    liveness_check_s: float = 1.0
    clock: Callable[[], float] = field(default=time.monotonic)


def encode_event(event_type: str, obj: RawObject | StatusBody) -> bytes:
    body: WatchEventBody = {"type": event_type, "object": obj}
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def bookmark(resource: ResourceType, revision: int) -> RawObject:
    return {
        "kind": resource.kind,
        "apiVersion": resource.api_version,
        "metadata": {"resourceVersion": str(revision)},
    }


def stream_watch(
    plan: WatchPlan, sink: LineSink, timing: StreamTiming, hold: Callable[[], None] = lambda: None
) -> StreamEnd:
    """Stream ``plan`` into ``sink`` until timeout, cut, expiry or the client leaves.
    ``hold`` is called before events are sent (a ``Slowdown`` keeps them back)."""
    if plan.watcher is None:
        return _send_error(sink, plan.error or Expired("too old resource version"))
    try:
        return _pump(plan, plan.watcher, sink, timing, hold)
    except Expired as error:
        return _send_error(sink, error)
    except OSError:
        return StreamEnd.CLIENT_GONE
    finally:
        plan.watcher.close("finished")


def _send_error(sink: LineSink, error: ApiError) -> StreamEnd:
    try:
        sink.send(encode_event("ERROR", status_body(error)))
    except OSError:
        return StreamEnd.CLIENT_GONE
    return StreamEnd.EXPIRED


def _pump(
    plan: WatchPlan,
    watcher: Watcher,
    sink: LineSink,
    timing: StreamTiming,
    hold: Callable[[], None],
) -> StreamEnd:
    start = timing.clock()
    deadline = start + plan.timeout_s if plan.timeout_s is not None else None
    next_bookmark = start + timing.bookmark_interval_s
    while True:
        now = timing.clock()
        wait = min(
            timing.liveness_check_s,
            next_bookmark - now,
            (deadline - now) if deadline is not None else timing.liveness_check_s,
        )
        events = watcher.poll_shared(max(wait, 0.0))
        if events:
            hold()
        for event in events:
            sink.send(encode_event(event.type.value, plan.render(event.object)))
        if watcher.close_reason is not None:
            return _closed_end(watcher.close_reason)
        now = timing.clock()
        if now >= next_bookmark:
            if plan.bookmarks:
                sink.send(encode_event("BOOKMARK", bookmark(plan.resource, watcher.revision)))
            next_bookmark = now + timing.bookmark_interval_s
        if deadline is not None and now >= deadline:
            return StreamEnd.TIMEOUT
        if not events and sink.client_gone():
            return StreamEnd.CLIENT_GONE


def _closed_end(reason: str) -> StreamEnd:
    try:
        return StreamEnd(reason)
    except ValueError:
        return StreamEnd.STOPPED
