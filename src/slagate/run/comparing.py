"""``slagate compare`` and ``slagate history``: what the recorded runs say side by side.

``compare_folders`` reads two judged run folders of one scenario, writes the comparison
into the new run's folder (comparison.json) and rebuilds its report.html, which then
shows it. ``write_history`` lists a reports folder and writes its index.html. Neither
sends a request or changes a verdict.
"""

from __future__ import annotations

from pathlib import Path

from slagate.errors import ConfigError
from slagate.lifecycle import read_baseline, read_whole_run
from slagate.report import write_report
from slagate.report.comparison import Comparison, compare_runs, write_comparison
from slagate.report.history import RunEntry, list_runs
from slagate.report.indexing import write_index
from slagate.report.summary import SUMMARY, Summary, read_summary
from slagate.timeline import writing_run_folder


def compare_folders(base_dir: Path, new_dir: Path) -> Comparison:
    """``new_dir`` beside ``base_dir``; a ``SlagateError`` (exit 2) names the folder that is
    not a run folder, is damaged, records no scenario or ran another scenario."""
    new = read_whole_run(new_dir)
    scenario = new.info.scenario
    if scenario is None:
        raise ConfigError(
            f"{new_dir / 'run.json'} records no scenario (a plain locust run); nothing to "
            "compare by: judge it with `slagate check --scenario FILE` first"
        )
    base = read_baseline(base_dir, scenario.name, "BASE_RUN")
    comparison = compare_runs(scenario, base, new, _summary(base_dir), _summary(new_dir))
    with writing_run_folder(new_dir):
        write_comparison(new_dir, comparison)
    write_report(new_dir)
    return comparison


def write_history(reports_dir: Path, scenario: str | None) -> tuple[Path, tuple[RunEntry, ...]]:
    """The runs under ``reports_dir`` (of ``scenario`` when given), and index.html there."""
    entries = list_runs(reports_dir, scenario)
    return write_index(reports_dir, entries), entries


def _summary(run_dir: Path) -> Summary | None:
    return read_summary(run_dir) if (run_dir / SUMMARY).exists() else None
