"""The load child's progress stream: one JSON object per line on its stdout.

Both ends live here: ``ProgressStream`` writes it in the child (``python -m slagate.load``),
``apply_message`` folds it into a ``LoadStatus`` in the controller. Messages
(docs/contracts.md, "Progress stream"):

- ``{"type": "progress", "t_ms", "users", "requests", "failures", "rps", "fail_rps"}``
  about every second;
- ``{"type": "event", "kind", "t_ms", "name", "message"}`` for each harness event;
- ``{"type": "rows", "final", "through_s", "requests", "latency", "failures"}``: timeline
  rows (lists in column order) for the controller's live judge: ``final`` ones as they are
  collected for Parquet (every second up to ``through_s`` is then complete; ``null``:
  all), provisional ones of the second that just ended, once a second;
- ``{"type": "end", "status": "completed"|"aborted", "reason"}`` once, before a normal exit:
  how the load ended, for the controller that owns run.json;
- ``{"type": "error", "message"}`` before exiting 2 (could not run).

Every line is flushed at once; a parent that went away (broken pipe) does not stop the
load. Lines that are not JSON objects (a locustfile's stray print) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TextIO

from slagate.load.recorder import Totals
from slagate.timeline import (
    ROW_TYPES,
    EventKind,
    EventRow,
    EventSource,
    RunStatus,
    Table,
    TimelineRow,
)

EVENTS_KEPT = 20
LIVE_TABLES = (Table.REQUESTS, Table.LATENCY, Table.FAILURES)
"""The load's tables the live judge reads from ``rows`` messages (events come one by one)."""


class ProgressStream:
    """The child's end: writes messages to ``stream`` (its stdout)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._broken = False

    def write(self, message: Mapping[str, Any]) -> None:
        if self._broken:
            return
        try:
            self._stream.write(json.dumps(message, separators=(",", ":")) + "\n")
            self._stream.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
            self._broken = True

    def progress(self, t_ms: int, users: int, totals: Totals, last_second: Totals) -> None:
        self.write(
            {
                "type": "progress",
                "t_ms": t_ms,
                "users": users,
                "requests": totals.requests,
                "failures": totals.failures,
                "rps": last_second.requests,
                "fail_rps": last_second.failures,
            }
        )

    def event(self, row: EventRow) -> None:
        self.write(
            {
                "type": "event",
                "kind": row.kind,
                "t_ms": row.t_ms,
                "name": row.name,
                "message": row.message,
            }
        )

    def rows(
        self, batch: Mapping[Table, Sequence[Sequence[Any]]], through_s: int | None, final: bool
    ) -> None:
        """Timeline rows for the live judge; nothing when ``batch`` has none of them."""
        tables = {str(t): [list(r) for r in batch.get(t, ())] for t in LIVE_TABLES}
        if any(tables.values()):
            self.write({"type": "rows", "final": final, "through_s": through_s, **tables})

    def end(self, status: RunStatus, reason: str | None) -> None:
        self.write({"type": "end", "status": str(status), "reason": reason})

    def error(self, message: str) -> None:
        self.write({"type": "error", "message": message})


@dataclass(frozen=True)
class LoadStatus:
    """The controller's end: the latest of what the child reported."""

    t_ms: int = 0
    users: int = 0
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    fail_rps: float = 0.0
    load_start_ms: int | None = None
    events: tuple[str, ...] = ()  # the latest EVENTS_KEPT, as text
    event_count: int = 0
    ended: RunStatus | None = None
    """How the load ended (``end`` message); None until then or if the child died."""

    end_reason: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RowsUpdate:
    """A ``rows`` message as the controller reads it: rows by table, row types checked."""

    final: bool
    through_s: int | None
    rows: Mapping[Table, tuple[TimelineRow, ...]]


def read_rows(msg: Mapping[str, Any]) -> RowsUpdate | None:
    """The ``rows`` message ``msg`` (pure); None when it is none or malformed (a
    locustfile's stray print is not the child's data)."""
    if msg.get("type") != "rows":
        return None
    through = msg.get("through_s")
    rows: dict[Table, tuple[TimelineRow, ...]] = {}
    try:
        for table in LIVE_TABLES:
            row_type = ROW_TYPES[table]
            rows[table] = tuple(row_type(*r) for r in msg.get(str(table), ()))
    except TypeError:
        return None
    return RowsUpdate(bool(msg.get("final")), None if through is None else int(through), rows)


def read_event(msg: Mapping[str, Any]) -> EventRow | None:
    """The harness event an ``event`` message carries (pure); None for any other message."""
    if msg.get("type") != "event":
        return None
    try:
        t_ms = int(msg["t_ms"])
    except (KeyError, TypeError, ValueError):
        return None
    parts = (str(msg.get(k, "")) for k in ("kind", "name", "message"))
    return EventRow(t_ms, EventSource.HARNESS, *parts)


def apply_message(status: LoadStatus, msg: Mapping[str, Any]) -> LoadStatus:
    """Fold one progress-stream message into the status (pure)."""
    kind = msg.get("type")
    if kind == "progress":
        return replace(
            status,
            t_ms=int(msg.get("t_ms", 0)),
            users=int(msg.get("users", 0)),
            requests=int(msg.get("requests", 0)),
            failures=int(msg.get("failures", 0)),
            rps=float(msg.get("rps", 0.0)),
            fail_rps=float(msg.get("fail_rps", 0.0)),
        )
    if kind == "event":
        return _with_event(status, msg)
    if kind == "end":
        return replace(status, ended=RunStatus(msg["status"]), end_reason=msg.get("reason"))
    if kind == "error":
        return replace(status, error=str(msg.get("message", "")))
    return status


def _with_event(status: LoadStatus, msg: Mapping[str, Any]) -> LoadStatus:
    parts = (msg.get("kind", "?"), msg.get("name", ""), msg.get("message", ""))
    text = " ".join(str(p) for p in parts if p)
    started = msg.get("kind") == EventKind.LOAD_START
    return replace(
        status,
        load_start_ms=int(msg["t_ms"]) if started else status.load_start_ms,
        events=(*status.events, text)[-EVENTS_KEPT:],
        event_count=status.event_count + 1,
    )
