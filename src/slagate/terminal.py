"""The terminal face of a run: live progress while the load runs, the verdict table after.

``TerminalView`` is the ``RunView`` the CLI hands to ``slagate.run``: a rich progress bar and
the live SLA table (redrawn every second) on a TTY; otherwise (CI logs, the pytest gate) a
plain progress line and the live table every few seconds, and at once when a status
changes. ``render_verdicts`` prints one row per SLA, in the same table layout, and the
outcome line of ``slagate run`` and ``slagate check``. Everything
that came from the target, the cluster or the scenario is printed through ``shown``: as
``Text``, never as markup, and with its control characters escaped (``printable``), so a
name or an error message can neither style the output nor send the terminal an ANSI escape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from slagate.errors import ExitCode
from slagate.lifecycle import RunResult
from slagate.load.progress import LoadStatus
from slagate.report.comparison import Comparison
from slagate.report.history import RunEntry
from slagate.report.sweep import SweepRecord, shown_in
from slagate.sla.formatting import printable
from slagate.sla.live import STOPPED_THE_RUN, LiveState, LiveStatus
from slagate.sla.verdict import Status, Verdict
from slagate.timeline import EventKind

PLAIN_EVERY_S = 5.0
STYLES = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.NO_DATA: "bold yellow"}
CELL_STYLES = {"pass": "bold green", "fail": "bold red", "nodata": "bold yellow"}
"""A sweep's SLA-by-cell table: ``CellShown.css`` as the terminal colours it."""
LIVE_STYLES = {
    LiveState.OK: "green",
    LiveState.AT_RISK: "bold yellow",
    LiveState.BREACHED: "bold red",
    LiveState.PENDING: "dim",
}


class TerminalView:
    """Shows the run's steps and the load's progress against its planned duration."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self._clock = clock
        self._live = console.is_terminal
        self._progress: Progress | None = None
        self._live_display: Live | None = None
        self._table: Table | None = None
        self._task: TaskID | None = None
        self._last_plain = -PLAIN_EVERY_S
        self._last_table = -PLAIN_EVERY_S
        self._states: tuple[LiveState, ...] = ()
        self._events_seen = 0

    def say(self, text: str) -> None:
        self.console.print(shown(text))

    def load_progress(self, status: LoadStatus, planned_s: float) -> None:
        elapsed = _elapsed(status)
        line = describe(status)
        self._print_events(status)
        if self._live:
            self._bar(planned_s).update(
                self._task_id(), completed=min(elapsed, planned_s), line=line
            )
        elif self._clock() - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = self._clock()
            self.console.print(shown(f"load {elapsed:5.0f}/{planned_s:.0f} s  {line}"))

    def live_slas(self, statuses: Sequence[LiveStatus]) -> None:
        table = live_table(statuses)
        if self._live:
            self._table = table
            return
        states = tuple(s.state for s in statuses)
        if states != self._states or self._clock() - self._last_table >= PLAIN_EVERY_S:
            self._states, self._last_table = states, self._clock()
            self.console.print(table)

    def load_done(self) -> None:
        if self._live_display is not None:
            self._live_display.stop()
            self._live_display = None
        self._progress = None

    def _bar(self, planned_s: float) -> Progress:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("[bold]load[/]"),
                BarColumn(),
                TextColumn("{task.fields[line]}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._task = self._progress.add_task("load", total=planned_s, line="starting")
            self._live_display = Live(
                _Screen(self), console=self.console, refresh_per_second=4, transient=False
            )
            self._live_display.start()
        return self._progress

    def _task_id(self) -> TaskID:
        assert self._task is not None
        return self._task

    def _print_events(self, status: LoadStatus) -> None:
        new = min(status.event_count - self._events_seen, len(status.events))
        for text in status.events[len(status.events) - new :] if new > 0 else ():
            if text.startswith(EventKind.NAMES_FOLDED):
                self.console.print(Text.assemble(("warning ", "bold yellow"), shown(text)))
            elif not text.startswith(EventKind.USERS):
                self.console.print(Text.assemble(("event ", "dim"), shown(text)))
        self._events_seen = status.event_count


class _Screen:
    """What the live display redraws: the progress bar, then the live SLA table."""

    def __init__(self, view: TerminalView) -> None:
        self._view = view

    def __rich__(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self._view._progress is not None:
            parts.append(self._view._progress.get_renderable())
        if self._view._table is not None:
            parts.append(self._view._table)
        return Group(*parts)


def shown(text: str, style: str = "") -> Text:
    """``text`` as the terminal prints outside words: literal (``[bold]`` stays two
    brackets and a word) and with control characters escaped (``\\x1b[31m`` stays text)."""
    return Text(printable(text), style=style)


def describe(status: LoadStatus) -> str:
    return (
        f"users {status.users:>4}  rps {status.rps:7.1f}  "
        f"requests {status.requests:>9,}  failures {status.failures:>7,}"
    )


def _elapsed(status: LoadStatus) -> float:
    if status.load_start_ms is None or not status.t_ms:
        return 0.0
    return max(0.0, (status.t_ms - status.load_start_ms) / 1000.0)


def render_verdicts(console: Console, result: RunResult) -> None:
    """Print one row per SLA, then the outcome line with the exit code and the run folder."""
    if result.verdicts:
        console.print(verdict_table(result.verdicts, result.stopped_by))
        for v in result.verdicts:
            if v.status is not Status.PASS:
                console.print(Text.assemble(shown(f"{v.id}: ", STYLES[v.status]), shown(v.message)))
        if result.stopped_by is not None:
            label = shown(f"{result.stopped_by} {STOPPED_THE_RUN} (abort_on_fail): ", "bold red")
            console.print(Text.assemble(label, shown(result.note)))
    else:
        console.print("no SLAs declared: nothing was judged (add slas: to the scenario)")
    for check in result.cross_checks:
        style = "bold yellow" if check.flagged else "dim"
        label = shown(f"{check.sla_id} client vs server: ", style)
        console.print(Text.assemble(label, shown(check.note)))
    for rollback in result.rollbacks:
        style = "bold yellow" if rollback.ok else "bold red"
        console.print(Text.assemble(shown("rollback: ", style), shown(rollback.describe())))
    style = "bold green" if result.exit_code is ExitCode.PASSED else "bold red"
    line = Text.assemble(
        (result.exit_code.outcome, style),
        shown(f"  exit {result.exit_code:d}  run {result.run_dir}"),
    )
    if result.note:
        line.append(shown(f"  ({result.note})"))
    console.print(line)


def render_error(console: Console, error: BaseException) -> None:
    """The one line (or lines) a command prints for the error that ended it."""
    console.print(Text.assemble(("error: ", "bold red"), shown(str(error))), soft_wrap=True)


def verdict_table(verdicts: Sequence[Verdict], stopped_by: str | None = None) -> Table:
    """The final verdicts; the SLA that stopped the run (``abort_on_fail``) says so."""
    rows = []
    for v in verdicts:
        status = v.status.value + (f", {STOPPED_THE_RUN}" if v.id == stopped_by else "")
        rows.append(
            (
                v.id,
                Text(status, style=STYLES[v.status]),
                v.measured_text,
                v.threshold_text,
                v.window,
            )
        )
    return _table(rows)


def live_table(statuses: Sequence[LiveStatus]) -> Table:
    """Each SLA's status so far, laid out as the final verdicts are."""
    rows = []
    for s in statuses:
        state = Text(s.state.value, style=LIVE_STYLES[s.state])
        rows.append((s.id, state, s.measured_text, s.threshold_text, s.window))
    return _table(rows)


def _table(rows: Sequence[tuple[str, Text, str, str, str]]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for column in ("SLA", "status", "measured", "threshold", "window"):
        table.add_column(column, overflow="fold")
    for sla, status, measured, threshold, window in rows:
        table.add_row(  # Text, not markup: names and messages come from the target
            shown(sla), status, shown(measured), shown(threshold), shown(window)
        )
    return table


def render_comparison(console: Console, comparison: Comparison, written_to: Path) -> None:
    """The two runs side by side, one row per measurement, then where the report is."""
    table = Table(show_lines=False, header_style="bold")
    for column in ("subject", "measure", f"base {comparison.base_run}", "new", "change"):
        table.add_column(shown(column), overflow="fold")
    for row in comparison.changes:
        table.add_row(*(shown(t) for t in (row.subject, row.what, row.base_text, row.new_text)),
                      shown(row.change_text))  # fmt: skip
    for row in comparison.slas:
        base = f"{row.base_text} ({row.base_status})"
        new = f"{row.new_text} ({row.new_status})"
        table.add_row(*(shown(t) for t in (f"SLA {row.subject}", row.what, base, new)),
                      shown(row.change_text))  # fmt: skip
    console.print(table)
    console.print(shown(f"compared {comparison.new_run} with {comparison.base_run}: {written_to}"))


def render_history(console: Console, entries: tuple[RunEntry, ...], index: Path) -> None:
    """One row per run folder, newest first, then where index.html was written."""
    table = Table(show_lines=False, header_style="bold")
    for column in ("run", "scenario", "status", "exit", "verdicts"):
        table.add_column(column, overflow="fold")
    for entry in reversed(entries):
        code = entry.exit_code
        style = "dim" if code is None else "green" if code is ExitCode.PASSED else "red"
        table.add_row(
            shown(entry.run_id),
            shown(entry.scenario_name or "-"),
            shown(str(entry.info.status) if entry.info else "damaged"),
            Text("-" if code is None else str(int(code)), style=style),
            shown(f"damaged: {entry.damaged}" if entry.damaged else _tally(entry)),
        )
    console.print(table)
    console.print(shown(f"{len(entries)} run folders; index: {index}"))


def _tally(entry: RunEntry) -> str:
    if entry.summary is None:
        return "not judged"
    statuses = [v.status for v in entry.summary.verdicts]
    return ", ".join(f"{statuses.count(s)} {s.value}" for s in Status if s in statuses) or "-"


def render_sweep(console: Console, sweep_dir: Path, record: SweepRecord) -> None:
    """One row per SLA, one column per cell (status and measured value), the sentence
    per SLA (where it holds, where it flips, why), then the outcome line."""
    table = Table(show_lines=False, header_style="bold")
    table.add_column("SLA", overflow="fold")
    for index, cell in enumerate(record.cells, start=1):
        table.add_column(shown(f"cell {index}\n" + "\n".join(f"{k}={v}" for k, v in cell.settings)))
    for transfer in record.transfers:
        cells = [shown_in(cell, transfer.sla_id) for cell in record.cells]
        table.add_row(shown(transfer.sla_id), *(shown(c.text, CELL_STYLES[c.css]) for c in cells))
    console.print(table)
    for transfer in record.transfers:
        style = "bold yellow" if transfer.flips else "dim"
        console.print(shown(transfer.sentence, style), soft_wrap=True)
    for index, cell in enumerate(record.cells, start=1):
        if cell.exit_code in (ExitCode.COULD_NOT_RUN, ExitCode.ABORTED):
            console.print(shown(f"cell {index}: {cell.outcome}", "bold red"), soft_wrap=True)
    code = record.exit_code
    style = "bold green" if code is ExitCode.PASSED else "bold red"
    ran = f"{len(record.cells)}/{record.cells_planned} cells"
    console.print(
        Text.assemble((code.outcome, style), shown(f"  exit {code:d}  {ran}  sweep {sweep_dir}"))
    )
