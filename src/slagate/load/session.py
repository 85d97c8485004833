"""A recorded run in one Locust process (local runner or master): folder, events, rows.

The session owns the run folder's ``load`` writer. It does no gevent and no timing of its
own: the plugin calls ``event`` from Locust's events, a flusher moves rows with
``collect`` + ``write``, and whoever ends the run calls ``close``.

Who owns run.json depends on who runs the experiment: under plain ``locust -f`` the
session begins and ends the run (``slagate.lifecycle``); under ``slagate run`` the load
child is *managed*: the controller owns run.json and learns how the load ended from the
progress stream and the exit code, so the child never writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from slagate.lifecycle import begin_run, end_run
from slagate.load.recorder import Batch, Clock, EventListener, Recorder
from slagate.scenario import Scenario
from slagate.timeline import EventKind, RunStatus, StopReason, TableWriter

WRITER = "load"
CollectListener = Callable[[Batch, int | None], None]


@dataclass(frozen=True)
class RunSpec:
    """What a session records: the target and, for an experiment, the scenario.

    ``managed``: ``slagate run`` owns the run folder's run.json (see the module doc)."""

    run_dir: Path
    host: str | None
    services: Mapping[str, str] = field(default_factory=dict)
    scenario: Scenario | None = None
    scenario_path: Path | None = None
    managed: bool = False


class Session:
    """One run's recording. ``stop_reason`` is ``finished`` until ``stop`` says otherwise."""

    def __init__(self, spec: RunSpec, recorder: Recorder, clock: Clock) -> None:
        self.spec = spec
        self.recorder = recorder
        self.stop_reason = StopReason.FINISHED
        self.abort_reason: str | None = None
        self.closed = False
        self._clock = clock
        self._writer = TableWriter(spec.run_dir, WRITER)
        self._collect_listeners: list[CollectListener] = []

    @property
    def run_dir(self) -> Path:
        return self.spec.run_dir

    def begin(self) -> None:
        """Create the run folder; unless managed, write run.json (``running``)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if not self.spec.managed:
            begin_run(
                self.run_dir,
                started_ms=self._now_ms(),
                scenario=self.spec.scenario,
                scenario_path=self.spec.scenario_path,
                host=self.spec.host,
                services=self.spec.services,
            )

    def on_event(self, listener: EventListener) -> None:
        """Call ``listener(row)`` for every harness event (the progress stream), the
        recorder's own (``names_folded``) included."""
        self.recorder.on_event(listener)

    def event(self, kind: EventKind, name: str = "", message: str = "") -> None:
        self.recorder.event(kind, name, message)

    def stop(self, reason: StopReason, explanation: str | None = None) -> bool:
        """Record why the load stops; the first reason wins. Returns whether it was first."""
        if self.stop_reason is not StopReason.FINISHED or self.closed:
            return False
        self.stop_reason, self.abort_reason = reason, explanation
        return True

    @property
    def aborted(self) -> bool:
        return self.stop_reason is not StopReason.FINISHED

    def collect(self, final: bool = False) -> Batch:
        """Completed seconds as rows (``Recorder.collect``); each collect listener then
        sees them, with the last second they complete (None: everything)."""
        batch = self.recorder.collect(final)
        for listener in self._collect_listeners:
            listener(batch, self.recorder.collected_through_s)
        return batch

    def on_collect(self, listener: CollectListener) -> None:
        """Call ``listener(batch, through_s)`` with every collected batch (the progress
        stream hands the rows to the controller's live judge)."""
        self._collect_listeners.append(listener)

    def write(self, batch: Batch) -> int:
        """Write rows as Parquet parts; returns how many. Blocking: run it off the hub."""
        for table, rows in batch.items():
            self._writer.append(table, rows)
        return self._writer.flush()

    def close(self) -> None:
        """The recording ends (once); unless managed, run.json says how the run ended."""
        self.closed = True
        if not self.spec.managed:
            status = RunStatus.ABORTED if self.aborted else RunStatus.COMPLETED
            end_run(self.run_dir, ended_ms=self._now_ms(), status=status, reason=self.abort_reason)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
