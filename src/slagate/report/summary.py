"""``summary.json``: a judged run's verdicts, its exit code and how the run ended.

The machine-readable result of the gate (``report.html`` is the human one): written once
a run is judged, re-written by ``slagate check``, read by the pytest gate and the report.
The format (docs/contracts.md)::

    {"schema_version": 1, "exit_code": N, "status": "completed|aborted",
     "note": "...", "verdicts": [Verdict.to_json(), ...],
     "cross_checks": [CrossCheck.to_json(), ...],
     "rollbacks": [RollbackSpan.to_json(), ...], "stopped_by": "SLA id" | null}
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slagate.errors import ExitCode, TimelineError
from slagate.files import write_atomically
from slagate.sla.crosscheck import CrossCheck
from slagate.sla.rollout_spans import RollbackSpan
from slagate.sla.verdict import Verdict
from slagate.timeline import RunStatus

SUMMARY = "summary.json"
SCHEMA_VERSION = 1
"""Bumped when summary.json changes incompatibly; a newer file is refused, not misread."""


@dataclass(frozen=True)
class Summary:
    """A judged run. Iterating a summary yields its verdicts, in scenario order."""

    exit_code: ExitCode
    verdicts: tuple[Verdict, ...]
    status: RunStatus = RunStatus.COMPLETED
    note: str = ""
    """Why the run stopped early, or what else a reader must know about the verdicts."""

    cross_checks: tuple[CrossCheck, ...] = ()
    """Client-side failure ratio beside the server-side error ratio, per error-ratio SLA."""

    rollbacks: tuple[RollbackSpan, ...] = ()
    """Rollouts undone because the run failed or was stopped (``on_fail: rollback``)."""
    stopped_by: str | None = None
    """The id of the SLA whose ``abort_on_fail`` stopped the run (``note`` says why)."""

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "exit_code": int(self.exit_code),
            "status": str(self.status),
            "note": self.note,
            "verdicts": [v.to_json() for v in self.verdicts],
            "cross_checks": [c.to_json() for c in self.cross_checks],
            "rollbacks": [r.to_json() for r in self.rollbacks],
            "stopped_by": self.stopped_by,
        }


def write_summary(run_dir: Path, summary: Summary) -> Path:
    """Write ``run_dir/summary.json`` atomically and return its path."""
    path = Path(run_dir) / SUMMARY
    write_atomically(path, json.dumps(summary.to_json(), indent=2) + "\n")
    return path


def refuse_newer_summary(run_dir: Path) -> None:
    """Before judging again: a ``summary.json`` of a newer slagate is a ``TimelineError``
    (its verdicts may hold what this version cannot write back). One this version cannot
    read at all is replaced: it is the output of judging, not an input."""
    path = Path(run_dir) / SUMMARY
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return
    _check_version(path, data)


def read_summary(run_dir: Path) -> Summary:
    """Read ``run_dir/summary.json``; a missing, malformed or newer file is a
    ``TimelineError`` that names the file and what to do."""
    path = Path(run_dir) / SUMMARY
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise TimelineError(
            f"{path} is missing: the run was not judged yet; run `slagate check {run_dir}`"
        ) from e
    except (OSError, ValueError, RecursionError) as e:
        raise TimelineError(f"cannot read {path}: {e}") from e
    return _parsed(path, data)


def _check_version(path: Path, data: Any) -> None:
    version = data.get("schema_version", SCHEMA_VERSION) if isinstance(data, dict) else None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise TimelineError(
            f"{path} was written by a newer slagate (summary schema {version}, this one "
            f"reads {SCHEMA_VERSION}); judge the run with that version or upgrade slagate"
        )


def _parsed(path: Path, data: Any) -> Summary:
    _check_version(path, data)
    try:
        return Summary(
            exit_code=ExitCode(data["exit_code"]),
            verdicts=tuple(Verdict.from_json(v) for v in data["verdicts"]),
            status=RunStatus(data.get("status", RunStatus.COMPLETED)),
            note=str(data.get("note", "")),
            cross_checks=tuple(CrossCheck.from_json(c) for c in data.get("cross_checks", [])),
            rollbacks=tuple(RollbackSpan.from_json(r) for r in data.get("rollbacks", [])),
            stopped_by=_optional_text(data.get("stopped_by")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise TimelineError(f"cannot read {path}: not a slagate summary ({e!r})") from e


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"stopped_by must be an SLA id, got {value!r}")
    return value
