"""The verdict table printed at the end of ``slagate run`` and ``slagate check``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from slagate.run.orchestrating import RunResult
from slagate.sla.verdict import Status, Verdict

STYLES = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.NO_DATA: "bold yellow"}
OUTCOMES = {0: "PASS", 1: "FAIL", 2: "COULD NOT RUN", 3: "ABORTED"}


def render_verdicts(console: Console, result: RunResult) -> None:
    """Print one row per SLA, then the outcome line with the exit code and the run folder."""
    if result.verdicts:
        console.print(_table(result.verdicts))
        for v in result.verdicts:
            if v.status is not Status.PASS:
                console.print(Text.assemble((f"{v.id}: ", STYLES[v.status]), v.message))
    else:
        console.print("no SLAs declared: nothing was judged (add slas: to the scenario)")
    outcome = OUTCOMES.get(result.exit_code, "?")
    style = "bold green" if result.exit_code == 0 else "bold red"
    line = Text.assemble((outcome, style), f"  exit {result.exit_code}  run {result.run_dir}")
    if result.note:
        line.append(f"  ({result.note})")
    console.print(line)


def _table(verdicts: tuple[Verdict, ...]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for column in ("SLA", "status", "measured", "threshold", "window"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        table.add_row(  # Text, not markup: names and messages come from the target
            Text(v.id),
            Text(v.status.value, style=STYLES[v.status]),
            Text(_value(v.measured, v.unit)),
            Text(_value(v.threshold, v.unit)),
            Text(v.window),
        )
    return table


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()
