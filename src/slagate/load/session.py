"""A recorded run in one Locust process (local runner or master): folder, run.json, events.

The session owns the run folder's ``load`` writer and ``run.json``'s load-side keys. It
does no gevent and no timing of its own: the plugin calls ``event`` from Locust's events,
a flusher moves rows with ``collect`` + ``write``, and whoever ends the run calls
``close``. When ``slagate run`` manages the run (the load child), run.json already exists:
the session only adds the keys that are missing and reports how the load ended.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from slagate.load.recording import Batch, Clock, Recorder, Row
from slagate.scenario import Scenario
from slagate.timeline import RUN_INFO, TableWriter, read_run_info, update_run_info, write_json

WRITER = "load"
REASONS = ("finished", "signal", "abort")

EventListener = Callable[[Row], None]


@dataclass(frozen=True)
class RunSpec:
    """What a session records: the target and, for an experiment, the scenario."""

    run_dir: Path
    host: str | None
    services: Mapping[str, str] = field(default_factory=dict)
    scenario: Scenario | None = None
    scenario_path: Path | None = None


class Session:
    """One run's recording. ``stop_reason`` is ``finished`` until ``stop`` says otherwise."""

    def __init__(self, spec: RunSpec, recorder: Recorder, clock: Clock) -> None:
        self.spec = spec
        self.recorder = recorder
        self.stop_reason = "finished"
        self.abort_reason: str | None = None
        self.closed = False
        self._clock = clock
        self._writer = TableWriter(spec.run_dir, WRITER)
        self._listeners: list[EventListener] = []

    @property
    def run_dir(self) -> Path:
        return self.spec.run_dir

    def begin(self) -> None:
        """Write run.json (keys already there, e.g. from ``slagate run``, are kept)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / RUN_INFO
        existing = read_run_info(self.run_dir) if path.exists() else {}
        write_json(path, {**self._initial_info(), **existing})

    def _initial_info(self) -> dict[str, Any]:
        scenario = self.spec.scenario
        return {
            "run_id": self.run_dir.name,
            "scenario_name": scenario.name if scenario else None,
            "scenario_path": str(self.spec.scenario_path) if self.spec.scenario_path else None,
            "scenario": scenario.model_dump(mode="json", by_alias=True) if scenario else None,
            "host": self.spec.host,
            "services": dict(self.spec.services),
            "started_ms": int(self._clock() * 1000),
            "ended_ms": None,
            "status": "running",
            "abort_reason": None,
            "versions": versions(),
        }

    def on_event(self, listener: EventListener) -> None:
        """Call ``listener(row)`` for every harness event (the progress stream)."""
        self._listeners.append(listener)

    def event(self, kind: str, name: str = "", message: str = "") -> None:
        row = self.recorder.event(kind, name, message)
        for listener in self._listeners:
            listener(row)

    def stop(self, reason: str, explanation: str | None = None) -> bool:
        """Record why the load stops; the first reason wins. Returns whether it was first."""
        if reason not in REASONS:
            raise ValueError(f"stop reason must be one of {REASONS}, got {reason!r}")
        if self.stop_reason != "finished" or self.closed:
            return False
        self.stop_reason, self.abort_reason = reason, explanation
        return True

    @property
    def aborted(self) -> bool:
        return self.stop_reason != "finished"

    def collect(self, final: bool = False) -> Batch:
        return self.recorder.collect(final)

    def write(self, batch: Batch) -> int:
        """Write rows as Parquet parts; returns how many. Blocking: run it off the hub."""
        for table, rows in batch.items():
            self._writer.append(table, rows)
        return self._writer.flush()

    def close(self) -> dict[str, Any]:
        """Mark run.json ``completed`` or ``aborted`` with the end time (once)."""
        self.closed = True
        return update_run_info(
            self.run_dir,
            status="aborted" if self.aborted else "completed",
            abort_reason=self.abort_reason,
            ended_ms=int(self._clock() * 1000),
        )


def versions() -> dict[str, str]:
    """``{slagate, locust, python}`` versions for run.json."""
    out = {"python": platform.python_version()}
    for dist in ("slagate", "locust"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "unknown"
    return out
