"""A sweep's summary: ``sweep.json`` and ``sweep.html`` in the sweep folder.

``sweep.json``::

    {"scenario": "rolling-deploy", "scenario_path": "...", "exit_code": 1,
     "cells_planned": 4, "cells_run": 4,
     "cells": [{"index": 1, "settings": {"data_plane": "kube-proxy", ...},
                "run_dir": "cell-01-...", "exit_code": 0, "note": "",
                "verdicts": [<summary.json verdicts>]}, ...],
     "slas": [{"id": "...", "flips": true, "holds": [1, 2], "fails": [3],
               "unjudged": [], "sentence": "... holds at ..., fails at ...: why"}]}

``sweep.html`` shows the same: one row per SLA, one column per cell (pass / fail / no
data with the measured value, linked to the cell's report) and the sentence per SLA.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slagate.errors import ExitCode
from slagate.files import write_atomically
from slagate.report.rendering import render_template
from slagate.sla.transfer import CellVerdicts, Setting, Transfer, transfers
from slagate.sla.verdict import Status, Verdict

SWEEP_JSON = "sweep.json"
SWEEP_HTML = "sweep.html"
TEMPLATE = "sweep.html.j2"


@dataclass(frozen=True)
class CellRecord:
    """What one cell's run ended with: its folder (a name in the sweep folder), exit code,
    verdicts, and a note (why it could not run, or was not judged fully)."""

    settings: tuple[Setting, ...]
    run_dir: str
    exit_code: ExitCode
    verdicts: tuple[Verdict, ...] = ()
    note: str = ""

    @property
    def cell(self) -> CellVerdicts:
        """The cell as the flip analysis reads it: an aborted run's verdicts prove nothing
        either way (``ExitCode.ABORTED``), so that cell has none."""
        aborted = self.exit_code is ExitCode.ABORTED
        return CellVerdicts(self.settings, () if aborted else self.verdicts)

    @property
    def outcome(self) -> str:
        """``PASS exit 0`` / ``FAIL exit 1: availability, p95`` / ``COULD NOT RUN exit 2: why``."""
        head = f"{self.exit_code.outcome} exit {int(self.exit_code)}"
        failed = [v.id for v in self.verdicts if v.fails_the_gate]
        detail = ", ".join(failed) if failed else self.note
        return f"{head}: {detail}" if detail else head


@dataclass(frozen=True)
class SweepRecord:
    scenario: str
    scenario_path: str
    cells: tuple[CellRecord, ...]
    cells_planned: int

    @property
    def exit_code(self) -> ExitCode:
        """3 if a cell was aborted (the sweep stopped), else 2 if one could not run, else 1
        if an SLA failed in any cell, else 0 (all cells ran and passed)."""
        codes = {cell.exit_code for cell in self.cells}
        for code in (ExitCode.ABORTED, ExitCode.COULD_NOT_RUN, ExitCode.FAILED):
            if code in codes:
                return code
        return ExitCode.ABORTED if len(self.cells) < self.cells_planned else ExitCode.PASSED

    @property
    def transfers(self) -> list[Transfer]:
        return transfers([cell.cell for cell in self.cells])

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "scenario_path": self.scenario_path,
            "exit_code": int(self.exit_code),
            "cells_planned": self.cells_planned,
            "cells_run": len(self.cells),
            "cells": [_cell_json(i, cell) for i, cell in enumerate(self.cells, start=1)],
            "slas": [_transfer_json(t, self.cells) for t in self.transfers],
        }


def _cell_json(index: int, cell: CellRecord) -> dict[str, Any]:
    return {
        "index": index,
        "settings": dict(cell.settings),
        "run_dir": cell.run_dir,
        "exit_code": int(cell.exit_code),
        "note": cell.note,
        "verdicts": [v.to_json() for v in cell.verdicts],
    }


def _transfer_json(transfer: Transfer, cells: tuple[CellRecord, ...]) -> dict[str, Any]:
    settings = [cell.settings for cell in cells]

    def indices(group: tuple[CellVerdicts, ...]) -> list[int]:
        return [settings.index(c.settings) + 1 for c in group]

    return {
        "id": transfer.sla_id,
        "flips": transfer.flips,
        "holds": indices(transfer.holds),
        "fails": indices(transfer.fails),
        "unjudged": indices(transfer.unjudged),
        "sentence": transfer.sentence,
    }


@dataclass(frozen=True)
class CellShown:
    """One SLA in one cell, as the page shows it."""

    text: str
    css: str
    """``pass``, ``fail`` or ``nodata`` (no data, or no verdict)."""
    title: str


def write_sweep(sweep_dir: Path, record: SweepRecord) -> tuple[Path, Path]:
    """Write ``sweep.json`` and ``sweep.html`` into ``sweep_dir``; their paths."""
    data = record.to_json()
    json_path, html_path = sweep_dir / SWEEP_JSON, sweep_dir / SWEEP_HTML
    write_atomically(json_path, json.dumps(data, indent=2) + "\n")
    rows = [(t, [shown_in(cell, t.sla_id) for cell in record.cells]) for t in record.transfers]
    page = render_template(TEMPLATE, "the sweep page", record=record, rows=rows, data=data)
    write_atomically(html_path, page)
    return json_path, html_path


def shown_in(cell: CellRecord, sla_id: str) -> CellShown:
    """SLA ``sla_id`` in ``cell``: ``pass 0 requests``, ``fail 8 requests``, ``-`` (none)."""
    verdict = next((v for v in cell.cell.verdicts if v.id == sla_id), None)
    if verdict is None:
        return CellShown("-", "nodata", cell.note or "no verdict")
    css = {Status.PASS: "pass", Status.FAIL: "fail", Status.NO_DATA: "nodata"}[verdict.status]
    return CellShown(f"{verdict.status.value} {verdict.measured_text}", css, verdict.message)
