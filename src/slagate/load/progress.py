"""The load child's progress stream: one JSON object per line on stdout (docs/contracts.md).

``{"type": "progress", ...}`` about every second, ``{"type": "event", ...}`` for each
harness event, ``{"type": "error", "message": ...}`` before exiting 2. Every line is
flushed at once; a parent that went away (broken pipe) does not stop the load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO

from slagate.load.recording import Row, Totals


class ProgressStream:
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

    def event(self, row: Row) -> None:
        """A harness event row ``(t_ms, source, kind, name, message)``."""
        t_ms, _source, kind, name, message = row
        self.write({"type": "event", "kind": kind, "t_ms": t_ms, "name": name, "message": message})

    def error(self, message: str) -> None:
        self.write({"type": "error", "message": message})
