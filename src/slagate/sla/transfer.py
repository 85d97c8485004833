"""Where each SLA holds across a sweep's cells, and where it flips: pure, over verdicts.

A sweep (``slagate sweep``) judges one scenario once per cell of a grid of sandbox
settings. ``transfers`` reads the cells' verdicts and says, per SLA, in words: the cells
where it passed, those where it failed (with the first failure's explanation) and those
without a verdict (no data, or the cell could not run). It reads no clock, file or client.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from slagate.sla.verdict import Status, Verdict

Setting = tuple[str, str]
"""One setting of a cell as shown: its key and its value as the user typed it."""


@dataclass(frozen=True)
class CellVerdicts:
    """One judged (or not) cell: its settings in the grid's key order and its verdicts
    (none when the cell could not run or was interrupted before judging)."""

    settings: tuple[Setting, ...]
    verdicts: tuple[Verdict, ...] = ()

    @property
    def label(self) -> str:
        """``data_plane=kube-proxy, endpoint_propagation_delay_s=5s``."""
        return ", ".join(f"{key}={value}" for key, value in self.settings)


@dataclass(frozen=True)
class Transfer:
    """One SLA across the cells: where it held, failed, or had no verdict, and why it
    failed where it did (the first failing cell's explanation)."""

    sla_id: str
    holds: tuple[CellVerdicts, ...]
    fails: tuple[CellVerdicts, ...]
    unjudged: tuple[CellVerdicts, ...]
    why: str = ""

    @property
    def flips(self) -> bool:
        """It holds in some cells and fails in others: the verdict depends on the setting."""
        return bool(self.holds) and bool(self.fails)

    @property
    def sentence(self) -> str:
        """``rolling holds at endpoint_propagation_delay_s=1s and 5s; fails at
        endpoint_propagation_delay_s=15s: <why>``."""
        parts = [f"holds {self._where(self.holds)}"] if self.holds else []
        parts += [f"fails {self._where(self.fails)}: {self.why}"] if self.fails else []
        parts += [f"has no verdict {self._where(self.unjudged)}"] if self.unjudged else []
        return f"{self.sla_id} " + "; ".join(parts)

    def _where(self, group: tuple[CellVerdicts, ...]) -> str:
        total = len(self.holds) + len(self.fails) + len(self.unjudged)
        if len(group) < total:
            return f"at {describe_cells(group)}"
        return "in the one cell" if total == 1 else f"in all {total} cells"


def transfers(cells: Sequence[CellVerdicts]) -> list[Transfer]:
    """Per SLA (in the order the cells first name them), where it holds and where it
    fails. A failure is what fails the gate (a required SLA without data too), a hold a
    pass; an optional SLA's no-data and a cell without the SLA's verdict are neither."""
    ids = list(dict.fromkeys(v.id for cell in cells for v in cell.verdicts))
    return [_transfer(sla_id, cells) for sla_id in ids]


def _transfer(sla_id: str, cells: Sequence[CellVerdicts]) -> Transfer:
    holds: list[CellVerdicts] = []
    fails: list[tuple[CellVerdicts, Verdict]] = []
    unjudged: list[CellVerdicts] = []
    for cell in cells:
        verdict = next((v for v in cell.verdicts if v.id == sla_id), None)
        if verdict is not None and verdict.status is Status.PASS:
            holds.append(cell)
        elif verdict is not None and verdict.fails_the_gate:
            fails.append((cell, verdict))
        else:
            unjudged.append(cell)
    why = fails[0][1].message if fails else ""
    return Transfer(sla_id, tuple(holds), tuple(c for c, _ in fails), tuple(unjudged), why)


def describe_cells(cells: Sequence[CellVerdicts]) -> str:
    """The cells in few words: the settings they share, then the values of those that vary
    (``data_plane=kube-proxy, endpoint_propagation_delay_s=1s and 5s``) when the cells are
    every combination of those values; else each cell, ``; ``-separated."""
    keys = [key for key, _ in cells[0].settings]
    values = {key: list(dict.fromkeys(dict(c.settings)[key] for c in cells)) for key in keys}
    combinations = {tuple(zip(keys, combo, strict=True)) for combo in _product(values, keys)}
    if combinations != {c.settings for c in cells}:
        return "; ".join(cell.label for cell in cells)
    return ", ".join(f"{key}={' and '.join(values[key])}" for key in keys) or "the only cell"


def _product(values: dict[str, list[str]], keys: list[str]) -> list[tuple[str, ...]]:
    return list(itertools.product(*(values[key] for key in keys)))
