"""The runs under a reports folder: each run folder's run.json and summary.json, read.

What ``slagate history`` lists and draws, and where ``--baseline latest-pass`` looks.
Reading a folder never raises for what is in it: a folder whose run.json or summary.json
is missing or unreadable is listed as damaged, with the reason, and ends no listing. Only
the parquet tables are left unread (``load_timeline`` reads them when a run is needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slagate.errors import ExitCode, TimelineError
from slagate.report.summary import SUMMARY, Summary, read_summary
from slagate.report.sweep import SWEEP_JSON
from slagate.timeline import RunInfo, RunStatus, SandboxProfile, read_run_info, same_conditions


@dataclass(frozen=True)
class RunEntry:
    """One folder under the reports folder: a run (judged or not), or a damaged folder."""

    run_dir: Path
    info: RunInfo | None = None
    summary: Summary | None = None
    damaged: str = ""
    """Why the folder cannot be read as a run: the message naming the file; empty if fine."""

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def scenario_name(self) -> str:
        return (self.info.scenario_name if self.info else None) or ""

    @property
    def started_ms(self) -> int | None:
        return self.info.started_ms if self.info else None

    @property
    def exit_code(self) -> ExitCode | None:
        """The judged run's exit code; None if it was not judged (or is damaged)."""
        return self.summary.exit_code if self.summary else None

    @property
    def passed(self) -> bool:
        return self.exit_code is ExitCode.PASSED and self.info is not None and not self.damaged


def list_runs(reports_dir: Path, scenario: str | None = None) -> tuple[RunEntry, ...]:
    """Every run folder directly under ``reports_dir``, oldest first (by start time; damaged
    folders by name). With ``scenario``, only that scenario's runs (and damaged folders,
    whose scenario cannot be known). Files, hidden folders and sweep folders (``sweep.json``:
    their cells are run folders one level down) are not runs and are skipped.
    """
    folders = sorted(p for p in _children(reports_dir) if _may_be_a_run(p))
    entries = [read_entry(p) for p in folders]
    if scenario is not None:
        entries = [e for e in entries if e.damaged or e.scenario_name == scenario]
    return tuple(sorted(entries, key=lambda e: (e.started_ms or 0, e.run_id)))


def _may_be_a_run(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".") and not (path / SWEEP_JSON).exists()


def read_entry(run_dir: Path) -> RunEntry:
    """``run_dir``'s run.json and (when present) summary.json; damaged when unreadable."""
    try:
        info = read_run_info(run_dir)
        summary = read_summary(run_dir) if (run_dir / SUMMARY).exists() else None
    except TimelineError as e:
        return RunEntry(run_dir, damaged=str(e))
    return RunEntry(run_dir, info, summary)


def latest_pass(
    entries: tuple[RunEntry, ...],
    scenario: str,
    *,
    before_ms: int,
    other_than: Path,
    profile: SandboxProfile | None = None,
) -> RunEntry | None:
    """The newest passing run of ``scenario`` that started before ``before_ms``, not
    ``other_than`` (the run being judged), under the same sandbox ``profile`` (None: on a
    cluster): the last good run to compare a new one with."""
    good = [
        e
        for e in entries
        if e.passed
        and e.scenario_name == scenario
        and e.info is not None
        and e.info.status is RunStatus.COMPLETED
        and same_conditions(e.info.sandbox_profile, profile)
        and (e.started_ms or 0) < before_ms
        and e.run_dir.resolve() != other_than.resolve()
    ]
    return max(good, key=lambda e: (e.started_ms or 0, e.run_id), default=None)


def _children(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except FileNotFoundError as e:
        raise TimelineError(f"{folder}: no such folder; pass the folder runs go to") from e
    except NotADirectoryError as e:
        raise TimelineError(f"{folder} is a file, not a folder; pass the reports folder") from e
    except OSError as e:
        raise TimelineError(f"cannot list {folder}: {e.strerror or e}") from e
