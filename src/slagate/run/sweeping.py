"""A sweep: one scenario run once per cell of a grid of sandbox settings, in sequence.

``slagate sweep SCENARIO --sandbox --vary KEY=V1,V2 ...`` asks whether a verdict judged on
the sandbox carries over to other settings (the data plane, the endpoint propagation
delay, the timings). Each cell is a plain run (``run_scenario``) on its own fresh sandbox,
with its own run folder under the sweep folder; the sweep writes ``sweep.json`` and
``sweep.html`` there (``slagate.report.sweep``) with, per SLA, where it holds and where it
flips (``slagate.sla.transfer``).

The run layer knows no sandbox: the CLI checks every cell's settings before the first run
and hands in ``cluster_for``, which gives each cell its ``ClusterOptions``.

Exit code: 3 if a cell was aborted (Ctrl-C, SIGTERM, the scenario's abort rule; no later
cell runs), else 2 if a cell could not run, else 1 if an SLA failed in any cell, else 0.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from slagate.errors import ConfigError, ExitCode, SlagateError
from slagate.lifecycle import RunResult
from slagate.report.sweep import CellRecord, SweepRecord, write_sweep
from slagate.run.cluster import ClusterOptions
from slagate.run.orchestrating import RunOptions, check_options, run_scenario
from slagate.run.viewing import RunView
from slagate.scenario import SettingsLayer, load_scenario
from slagate.sla.transfer import CellVerdicts, Setting
from slagate.timeline import new_run_dir

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
"""Characters a cell's folder name does not keep (a value may hold any text)."""


@dataclass(frozen=True)
class Axis:
    """One ``--vary KEY=V1,V2``: a setting and the values the sweep tries, as typed."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    """One combination of the axes' values (``index`` from 1, in grid order)."""

    index: int
    settings: tuple[Setting, ...]

    @property
    def label(self) -> str:
        return CellVerdicts(self.settings).label

    @property
    def layer(self) -> SettingsLayer:
        """The cell's settings over the scenario's (``5`` a number, ``5s`` a duration)."""
        return SettingsLayer(f"--vary {self.label}", {k: typed(v) for k, v in self.settings})

    @property
    def folder(self) -> str:
        """The cell's run folder name: ``cell-01-data_plane-kube-proxy``."""
        named = "-".join(f"{key}-{value}" for key, value in self.settings)
        return f"cell-{self.index:02d}-{_UNSAFE.sub('_', named)}"[:120]


def parse_axis(text: str) -> Axis:
    """``KEY=V1,V2,...`` -> ``Axis``; ``ConfigError`` naming the text when it is not."""
    key, sep, values = text.partition("=")
    listed = tuple(v.strip() for v in values.split(","))
    if not sep or not key.strip() or not all(listed):
        raise ConfigError(
            f"--vary {text!r}: expected KEY=V1,V2,... (e.g. endpoint_propagation_delay_s=1s,5s)"
        )
    if len(set(listed)) < len(listed):
        raise ConfigError(f"--vary {text!r}: a value is listed twice")
    return Axis(key.strip(), listed)


def expand_grid(axes: Sequence[Axis]) -> list[Cell]:
    """Every combination of the axes' values, the first axis varying slowest."""
    keys = [axis.key for axis in axes]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise ConfigError(f"--vary {', '.join(twice)}: given more than once; list the values once")
    combos = itertools.product(*(axis.values for axis in axes))
    return [
        Cell(i, tuple(zip(keys, combo, strict=True))) for i, combo in enumerate(combos, start=1)
    ]


def typed(value: str) -> str | float:
    """A typed value as a settings file would hold it: a number, or the text (a name, or a
    duration such as ``5s`` that the settings read themselves)."""
    try:
        return float(value)
    except ValueError:
        return value


@dataclass(frozen=True)
class SweepOptions:
    scenario_path: Path
    cells: tuple[Cell, ...]
    cluster_for: Callable[[Cell], ClusterOptions]
    reports_dir: Path = Path("reports")


@dataclass(frozen=True)
class SweepResult:
    sweep_dir: Path
    record: SweepRecord

    @property
    def exit_code(self) -> ExitCode:
        return self.record.exit_code


def run_sweep(
    opts: SweepOptions,
    view: RunView,
    clock: Callable[[], float] = time.time,
    run: Callable[[RunOptions, RunView], RunResult] = run_scenario,
) -> SweepResult:
    """Run every cell in turn (``run``: ``run_scenario``), then write the sweep's summary;
    stops after an aborted cell (Ctrl-C included) and keeps what the cells recorded."""
    check_options(RunOptions(opts.scenario_path, reports_dir=opts.reports_dir))
    scenario = load_scenario(opts.scenario_path)
    sweep_dir = new_run_dir(opts.reports_dir, f"sweep-{scenario.name}", clock())
    sweep_dir.mkdir(parents=True, exist_ok=True)
    records: list[CellRecord] = []
    try:
        for cell in opts.cells:
            view.say(f"cell {cell.index}/{len(opts.cells)}: {cell.label}")
            done = _run_cell(opts, cell, sweep_dir / cell.folder, view, run)
            records.append(done)
            view.say(f"cell {cell.index}/{len(opts.cells)}: {done.outcome}")
            if done.exit_code is ExitCode.ABORTED:
                break
    except KeyboardInterrupt:  # between two cells: the cells run so far stay recorded
        pass
    record = SweepRecord(scenario.name, str(opts.scenario_path), tuple(records), len(opts.cells))
    write_sweep(sweep_dir, record)
    return SweepResult(sweep_dir, record)


def _run_cell(
    opts: SweepOptions,
    cell: Cell,
    run_dir: Path,
    view: RunView,
    run: Callable[[RunOptions, RunView], RunResult],
) -> CellRecord:
    """One cell's run; a launch error makes it a cell that could not run (the sweep goes
    on), an interrupt before the run could judge anything an aborted cell."""
    cell_opts = RunOptions(opts.scenario_path, run_dir=run_dir, cluster=opts.cluster_for(cell))
    try:
        result = run(cell_opts, view)
    except SlagateError as error:
        return CellRecord(cell.settings, run_dir.name, ExitCode.COULD_NOT_RUN, note=str(error))
    except KeyboardInterrupt:
        return CellRecord(cell.settings, run_dir.name, ExitCode.ABORTED, note="interrupted")
    return _recorded(cell, result)


def _recorded(cell: Cell, result: RunResult) -> CellRecord:
    return CellRecord(
        cell.settings, result.run_dir.name, result.exit_code, result.verdicts, result.note
    )
