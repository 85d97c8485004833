"""Judging while the load runs: the timeline so far, the live SLA table, the safety stop.

``LiveFeed`` is the timeline as the controller has it at any instant, from two sources:

- the load child's rows (``requests``, ``latency``, ``failures``) and harness events, from
  its progress stream: provisional rows of the second that just ended, once a second,
  replaced by the rows collected for Parquet once they are (the same rows the run folder
  keeps), so a breach is seen about a second after it happened, not after the next flush;
- everything the controller itself records (cluster watchers, actions, run events), read
  from the run folder's new part files (the load child's own parts are skipped: their rows
  came through the stream).

``LiveJudge.tick`` judges it with ``slagate.sla.live.judge_live`` (the final verdict's
evaluators): the ``abort_on_fail`` SLAs on every batch of rows as it arrives, the whole
table about once a second within ``CPU_SHARE``. It shows the statuses on the run's view
and returns the SLA whose ``abort_on_fail`` must stop the run, if any. docs/live.md says
what each state means and what the feed costs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from slagate.load.progress import LIVE_TABLES, RowsUpdate
from slagate.load.session import WRITER as LOAD_WRITER
from slagate.run.viewing import RunView
from slagate.scenario import Scenario
from slagate.sla.live import LiveStatus, judge_live, stop_cause
from slagate.timeline import (
    SCHEMAS,
    EventRow,
    RunInfo,
    Table,
    Timeline,
    TimelineRow,
    empty_frame,
    read_part,
)

logger = logging.getLogger(__name__)

JUDGE_EVERY_MS = 900
"""The shortest gap between table judgements: the child's rows come once a second, and
each batch is judged as it arrives (a little less than a second, so that jitter skips none)."""
IDLE_JUDGE_MS = 2000
"""Without new rows, judge again after this long (time-until SLAs move with the clock)."""
CPU_SHARE = 0.04
"""The share of a core judging may take. The table: a table judgement is followed by the
next no sooner than ``c / CPU_SHARE`` seconds later, ``c`` the CPU seconds it and the
guard judgements since took. Judging re-reads the whole feed, so its
cost grows with the run (about 20 ms a judgement after 10 minutes at 2,000 rps,
benchmarks/live_judging.py): long, busy runs refresh the table less often than once a
second rather than take the controller's core. The guard (``abort_on_fail`` SLAs only)
judges every batch (a stop comes one batch after the breach) while a guard judgement
costs under 40 ms, and is spaced the same way past that: the share then bounds it alone."""
STOP_RULE = "abort_on_fail"
"""The ``abort`` event's name (``rule``) when an SLA stopped the run."""


def _held(schema: pa.Schema) -> pa.Schema:
    """``schema`` with ``large_string`` for ``string``: what pandas holds text as, so
    converting the whole feed each second casts nothing (the cast was half its cost)."""
    return pa.schema(
        [f.with_type(pa.large_string()) if f.type == pa.string() else f for f in schema]
    )


HELD = {table: _held(schema) for table, schema in SCHEMAS.items()}


def _arrow(table: Table, rows: Sequence[TimelineRow]) -> pa.Table:
    """Rows as an Arrow table of ``table``'s schema (text held as ``large_string``): the
    dtypes a run folder reads with."""
    schema = HELD[table]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


class LiveFeed:
    """The timeline recorded so far (module doc). The load child's reader thread calls
    ``rows`` and ``event``; the run's thread calls ``timeline``."""

    def __init__(self, run_dir: Path, info: RunInfo) -> None:
        self.run_dir = run_dir
        self.info = info
        self._lock = threading.Lock()
        self._final: dict[Table, list[pa.Table]] = {t: [] for t in LIVE_TABLES}
        self._provisional: dict[int, RowsUpdate] = {}
        self._final_through: int | None = None
        self._all_final = False  # the child's last collect arrived
        self._events: list[EventRow] = []
        self._parts: dict[Table, list[pa.Table]] = {t: [] for t in Table}
        self._seen: set[Path] = set()
        self.arrived = threading.Event()
        """Set when rows or events come in: the run wakes to judge them at once."""

    def rows(self, update: RowsUpdate) -> None:
        """The child's rows: final ones are kept, provisional ones until replaced."""
        with self._lock:
            if update.final:
                for table in LIVE_TABLES:
                    if update.rows.get(table):
                        kept = [*self._final[table], _arrow(table, update.rows[table])]
                        self._final[table] = [pa.concat_tables(kept).combine_chunks()]
                self._final_through = update.through_s
                self._all_final = update.through_s is None
                self._forget_provisional()
            elif update.through_s is not None and not self._is_final(update.through_s):
                self._provisional[update.through_s] = update
        self.arrived.set()

    def event(self, row: EventRow) -> None:
        """A harness event the child streamed (``load_start``, ``users``, ``abort``...)."""
        with self._lock:
            self._events.append(row)
        self.arrived.set()

    def timeline(self) -> Timeline:
        """Everything recorded so far, as ``load_timeline`` would read it."""
        self._read_new_parts()
        with self._lock:
            load = {t: [*self._final[t], *self._provisional_rows(t)] for t in LIVE_TABLES}
            events = _arrow(Table.EVENTS, self._events)
        tables: dict[Table, pd.DataFrame] = {}
        for table in Table:
            chunks = [*self._parts[table], *load.get(table, [])]
            if table is Table.EVENTS:
                chunks.append(events)
            tables[table] = _frame(table, chunks)
        return Timeline(self.run_dir, self.info, tables)

    def _is_final(self, t_s: int) -> bool:
        through = self._final_through
        return self._all_final or (through is not None and t_s <= through)

    def _forget_provisional(self) -> None:
        for t_s in [t for t in self._provisional if self._is_final(t)]:
            del self._provisional[t_s]

    def _provisional_rows(self, table: Table) -> list[pa.Table]:
        return [
            _arrow(table, u.rows[table])
            for _, u in sorted(self._provisional.items())
            if u.rows.get(table)
        ]

    def _read_new_parts(self) -> None:
        """New part files of every table but the load child's (already streamed)."""
        for table in Table:
            folder = self.run_dir / table
            if not folder.is_dir():
                continue
            for part in sorted(folder.glob("*.parquet")):
                if part in self._seen or part.name.startswith(f"{LOAD_WRITER}-"):
                    continue
                self._seen.add(part)
                read = [*self._parts[table], read_part(part, table).cast(HELD[table])]
                self._parts[table] = [pa.concat_tables(read).combine_chunks()]


def _frame(table: Table, chunks: list[pa.Table]) -> pd.DataFrame:
    """One frame of ``chunks``, contiguous: evaluators' selections on a frame of hundreds
    of Arrow chunks cost ten times more (measured, benchmarks/live_judging.py)."""
    if not chunks:
        return empty_frame(table)
    frame: pd.DataFrame = pa.concat_tables(chunks).combine_chunks().to_pandas()
    return frame


class LiveJudge:
    """Judges the feed and shows it; see ``tick``."""

    def __init__(
        self,
        scenario: Scenario,
        feed: LiveFeed,
        view: RunView,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        """``cpu_clock``: CPU seconds of the judging thread, what ``CPU_SHARE`` counts."""
        self.scenario = scenario
        self.feed = feed
        self.view = view
        self.cpu_clock = cpu_clock
        self.statuses: tuple[LiveStatus, ...] = ()
        guarding = [spec for spec in scenario.slas if spec.abort_on_fail]
        self._guarded = scenario.model_copy(update={"slas": guarding}) if guarding else None
        self._last_ms: int | None = None
        self._guarded_ms: int | None = None
        self._guard_every_ms = 0.0
        self._unshown = False  # rows arrived since the table was last judged
        self._unguarded = False  # rows arrived since the guard or the table last judged
        self._spent_s = 0.0  # CPU seconds judging since the last table judgement began
        self._broken = False

    def tick(self, now_ms: int) -> tuple[Any, LiveStatus] | None:
        """The ``abort_on_fail`` SLA that must stop the run now, with its status, or None.

        Every batch of rows is judged as it arrives for the ``abort_on_fail`` SLAs (the
        guard: a stop comes one batch after the breach); the whole table is judged and
        shown at most once per ``JUDGE_EVERY_MS``, less often past ``CPU_SHARE`` (the
        guard's CPU counted in), and then stands in for the guard. A bug or odd data here
        never ends the run: it is said once and live judging stops (the final verdict
        stands)."""
        arrived = self.feed.arrived.is_set()
        if arrived:  # cleared only when seen: a batch arriving now stays flagged for next time
            self.feed.arrived.clear()
        if self._broken:
            return None
        self._unshown = self._unshown or arrived
        self._unguarded = self._unguarded or arrived
        if self._due(now_ms):
            return self._table(now_ms)
        if self._guarded is not None and self._unguarded and self._guard_due(now_ms):
            return self._guard(self._guarded, now_ms)
        return None

    def _table(self, now_ms: int) -> tuple[Any, LiveStatus] | None:
        """Every SLA judged and shown."""
        self._last_ms = now_ms
        self._unshown = self._unguarded = False
        self._spent_s = 0.0
        statuses = self._judged(self.scenario, now_ms)
        if statuses is None:
            return None
        self.statuses = statuses
        self.view.live_slas(statuses)
        return stop_cause(self.scenario, statuses, now_ms)

    def _guard(self, guarded: Scenario, now_ms: int) -> tuple[Any, LiveStatus] | None:
        """The ``abort_on_fail`` SLAs judged; shown only when one stops the run."""
        self._guarded_ms = now_ms
        self._unguarded = False
        spent_s = self._spent_s
        statuses = self._judged(guarded, now_ms)
        self._guard_every_ms = 1000 * (self._spent_s - spent_s) / CPU_SHARE
        cause = stop_cause(guarded, statuses, now_ms) if statuses is not None else None
        if cause is not None and statuses is not None:
            by_id = {status.id: status for status in statuses}
            self.statuses = tuple(by_id.get(status.id, status) for status in self.statuses)
            self.view.live_slas(self.statuses)
        return cause

    def _judged(self, scenario: Scenario, now_ms: int) -> tuple[LiveStatus, ...] | None:
        """``scenario``'s SLAs on the feed so far, its CPU counted; None once broken."""
        began = self.cpu_clock()
        try:
            return judge_live(scenario, self.feed.timeline(), now_ms)
        except Exception as e:  # see ``tick``
            logger.exception("live judging failed")
            self._broken = True
            self.view.say(f"live judging stopped ({type(e).__name__}: {e}); abort_on_fail is off")
            return None
        finally:
            self._spent_s += self.cpu_clock() - began

    def _due(self, now_ms: int) -> bool:
        """The table: new rows and the gap passed, or no new rows for ``IDLE_JUDGE_MS``."""
        if self._last_ms is None:
            return True
        waited = now_ms - self._last_ms
        if self._unshown:
            return waited >= self.every_ms
        return waited >= max(self.every_ms, IDLE_JUDGE_MS)

    def _guard_due(self, now_ms: int) -> bool:
        """Every batch while a guard judgement costs under ``CPU_SHARE`` of the second
        between batches (40 ms); past that, as often as ``CPU_SHARE`` allows."""
        last = self._guarded_ms
        return last is None or now_ms - last >= self._guard_every_ms

    @property
    def every_ms(self) -> float:
        """The interval the next table judgement waits for: what judging since the last
        one began spent, within ``CPU_SHARE``."""
        return max(float(JUDGE_EVERY_MS), 1000 * self._spent_s / CPU_SHARE)
