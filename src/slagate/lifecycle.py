"""One run's life on its folder: begin, end, finish. Every entry point goes through here.

``slagate run`` (the controller), plain ``locust -f ... --scenario`` (the Locust plugin),
``slagate check`` and the pytest gate (``--run-dir``) differ in how the load is driven,
not in what a run folder holds afterwards::

    begin_run    run.json ``running`` + a ``run_start`` event
    end_run      run.json ``completed`` | ``aborted`` | ``failed`` + a ``run_end`` event
    finish_run   compact the tables, judge the SLAs, resolved windows into run.json,
                 summary.json, report.html -> a ``RunResult``; with a baseline run
                 (``--baseline``) relative SLAs are judged against it and
                 comparison.json holds the two runs side by side

``finish_run`` is the only place that judges a run folder, so a run judged by any entry
point ends in the same files with the same exit code. The report is a by-product: a bug
in it is logged and changes no verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from slagate.errors import ConfigError, ExitCode, LoadError, TimelineError
from slagate.report import write_report
from slagate.report.comparison import compare_runs, write_comparison
from slagate.report.history import latest_pass, list_runs, read_entry
from slagate.report.summary import Summary, refuse_newer_summary, write_summary
from slagate.scenario import Scenario
from slagate.sla.crosscheck import CrossCheck, cross_checks
from slagate.sla.judging import exit_code_for, judge
from slagate.sla.relative import Baseline
from slagate.sla.rollout_spans import RollbackSpan, rollback_spans
from slagate.sla.verdict import Verdict
from slagate.sla.windows import resolve_all_windows
from slagate.timeline import (
    ClusterInfo,
    EventKind,
    EventRow,
    EventSource,
    PrometheusInfo,
    RunInfo,
    RunStatus,
    SandboxProfile,
    Table,
    Timeline,
    append_rows,
    compact_run,
    load_timeline,
    read_run_info,
    same_conditions,
    versions,
    write_run_info,
    writing_run_folder,
)

logger = logging.getLogger(__name__)

WRITER = "lifecycle"
KILLED_NOTE = "the run never finished (killed?); judged what was recorded"
LATEST_PASS = "latest-pass"
"""``--baseline latest-pass``: the newest passing run of the same scenario, started before
the judged run, in the folder that holds the judged run (the reports folder)."""
ABORT_REASON_MAX = 500


@dataclass(frozen=True)
class RunResult:
    """A judged run: its folder, exit code, how it ended and its verdicts."""

    run_dir: Path
    exit_code: ExitCode
    status: RunStatus
    verdicts: tuple[Verdict, ...]
    note: str = ""
    cross_checks: tuple[CrossCheck, ...] = ()
    rollbacks: tuple[RollbackSpan, ...] = ()
    stopped_by: str | None = None
    """The SLA whose ``abort_on_fail`` stopped the run, if one did."""


def begin_run(
    run_dir: Path,
    *,
    started_ms: int,
    scenario: Scenario | None,
    scenario_path: Path | None,
    host: str | None,
    services: Mapping[str, str],
    cluster: ClusterInfo | None = None,
    prometheus: PrometheusInfo | None = None,
) -> RunInfo:
    """Write run.json for a run that starts now (``running``) and its ``run_start``."""
    info = RunInfo(
        run_id=run_dir.name,
        scenario_name=scenario.name if scenario is not None else None,
        scenario_path=str(scenario_path) if scenario_path is not None else None,
        scenario=scenario,
        host=host,
        services=dict(services),
        started_ms=started_ms,
        versions=versions(),
        cluster=cluster,
        prometheus=prometheus,
    )
    with writing_run_folder(run_dir):
        write_run_info(run_dir, info)
        _event(run_dir, started_ms, EventKind.RUN_START)
    return info


def record_prometheus(run_dir: Path, prometheus: PrometheusInfo) -> RunInfo:
    """Say where the run's PromQL series came from after a re-fetch (``slagate check``)."""
    info = read_run_info(run_dir).model_copy(update={"prometheus": prometheus})
    with writing_run_folder(run_dir):
        write_run_info(run_dir, info)
    return info


def end_run(
    run_dir: Path,
    *,
    ended_ms: int,
    status: RunStatus,
    reason: str | None,
    stopped_by: str | None = None,
    stop_window_end_ms: int | None = None,
) -> RunInfo:
    """Mark the run ended (completed, aborted or failed) with why, and its ``run_end``;
    ``stopped_by``: the SLA whose ``abort_on_fail`` stopped it, judged in its window up
    to ``stop_window_end_ms`` then (``RunInfo``)."""
    reason = reason[:ABORT_REASON_MAX] if reason else None
    changes = {
        "ended_ms": ended_ms,
        "status": status,
        "abort_reason": reason,
        "stopped_by": stopped_by,
        "stop_window_end_ms": stop_window_end_ms if stopped_by is not None else None,
    }
    info = read_run_info(run_dir).model_copy(update=changes)
    with writing_run_folder(run_dir):
        write_run_info(run_dir, info)
        _event(run_dir, ended_ms, EventKind.RUN_END, reason or "")
    return info


def finish_run(
    run_dir: Path, scenario: Scenario | None = None, baseline: str | None = None
) -> RunResult:
    """Compact, judge (with ``scenario``, else the recorded one), write the windows,
    summary.json and report.html. A run whose load generator never ran is a
    ``LoadError``; a run that never ended (killed) is judged as aborted. ``baseline`` (a
    run folder or ``latest-pass``) is what relative SLAs are judged against; the two runs
    side by side go to comparison.json and the report.

    Everything read is read first: a damaged run.json or part file, or a summary.json of
    a newer slagate, is an error before any file of the folder is compacted or written."""
    info = read_run_info(run_dir)
    if info.status is RunStatus.FAILED:
        raise LoadError(
            f"{run_dir}: the load generator never ran ({info.abort_reason or 'no reason'}); "
            f"see {run_dir / 'load.log'}"
        )
    scenario = scenario or _recorded_scenario(run_dir, info)
    timeline = read_whole_run(run_dir)
    base = resolve_baseline(baseline, run_dir, scenario.name, info)
    with writing_run_folder(run_dir):
        compact_run(run_dir)
    verdicts = tuple(judge(scenario, timeline, baseline=base))
    status, note = _outcome(info)
    aborted = status is RunStatus.ABORTED
    exit_code = exit_code_for(verdicts, aborted=aborted, stopped_by=info.stopped_by)
    info = info.model_copy(update={"windows": resolve_all_windows(scenario, timeline)})
    checks = tuple(cross_checks(scenario, timeline))
    rollbacks = rollback_spans(timeline.harness_events())
    summary = Summary(exit_code, verdicts, status, note, checks, rollbacks, info.stopped_by)
    with writing_run_folder(run_dir):
        write_run_info(run_dir, info)
        write_summary(run_dir, summary)
        if base is not None and base.timeline is not None:
            base_summary = read_entry(base.timeline.run_dir).summary
            comparison = compare_runs(scenario, base.timeline, timeline, base_summary, summary)
            write_comparison(run_dir, comparison)
    _write_report(replace(timeline, info=info), summary)
    return RunResult(run_dir, exit_code, status, verdicts, note, checks, rollbacks, info.stopped_by)


def judge_so_far(
    run_dir: Path, scenario: Scenario, baseline: str | None = None
) -> tuple[ExitCode, tuple[Verdict, ...]]:
    """The exit code and verdicts ``finish_run`` will give an ended run, judged from what
    is recorded now, writing nothing: what the run needs while the cluster is still there
    (to undo a rollout of a failed run). Windows end at ``run_end``, so what is recorded
    after this (the undo itself) changes no verdict."""
    info = read_run_info(run_dir)
    base = resolve_baseline(baseline, run_dir, scenario.name, info)
    verdicts = tuple(judge(scenario, load_timeline(run_dir), baseline=base))
    status, _ = _outcome(info)
    aborted = status is RunStatus.ABORTED
    return exit_code_for(verdicts, aborted=aborted, stopped_by=info.stopped_by), verdicts


def resolve_baseline(
    choice: str | None, run_dir: Path, scenario: str, info: RunInfo
) -> Baseline | None:
    """The baseline run ``choice`` names for the run ``info`` of ``run_dir``:
    ``latest-pass`` (none found: a ``Baseline`` saying so, judged as no-data) or a run
    folder of the same scenario (a ``ConfigError`` if it is none, is damaged, ran another
    scenario or ran on a sandbox with other timings or another data plane: a ratio between
    two clocks measures the clocks). None without a choice."""
    if choice is None:
        return None
    profile = _sandbox_profile(info)
    if choice == LATEST_PASS:
        found = latest_pass(
            list_runs(run_dir.parent),
            scenario,
            before_ms=info.started_ms,
            other_than=run_dir,
            profile=profile,
        )
        if found is None:
            under = f" on a sandbox with {profile.describe()}" if profile is not None else ""
            return Baseline(missing=f"no passing run of {scenario} under {run_dir.parent}{under}")
        try:
            return Baseline(found.run_id, read_whole_run(found.run_dir))
        except TimelineError as e:
            return Baseline(missing=f"the newest passing run is unreadable: {e}")
    timeline = read_baseline(Path(choice), scenario)
    if not same_conditions(_sandbox_profile(timeline.info), profile):
        raise ConfigError(
            f"--baseline {choice}: {_conditions(timeline.info)}, this run "
            f"{_conditions(info)}; a relative SLA compares runs made under the same "
            "conditions (pass a run folder of those, or --baseline latest-pass)"
        )
    return Baseline(Path(choice).name, timeline)


def _sandbox_profile(info: RunInfo) -> SandboxProfile | None:
    return info.cluster.sandbox_profile if info.cluster is not None else None


def _conditions(info: RunInfo) -> str:
    profile = _sandbox_profile(info)
    return "ran on a cluster" if profile is None else f"ran on a sandbox with {profile.describe()}"


def read_baseline(run_dir: Path, scenario: str, what: str = "--baseline") -> Timeline:
    """The run folder ``run_dir`` as the baseline of a run of ``scenario``: a
    ``ConfigError`` naming ``what`` and the folder if it cannot be read or ran another
    scenario."""
    try:
        timeline = read_whole_run(run_dir)
    except TimelineError as e:
        raise ConfigError(f"{what} {run_dir}: {e}") from e
    name = timeline.info.scenario_name
    if name != scenario:
        raise ConfigError(
            f"{what} {run_dir}: a run of scenario {name!r}, not {scenario!r}; compare "
            "runs of the same scenario (pass a run folder of it, or --baseline latest-pass)"
        )
    return timeline


def read_whole_run(run_dir: Path) -> Timeline:
    """Every part of ``run_dir`` read, and a summary from a newer slagate refused, before
    any file of it changes: a damaged folder is a ``TimelineError`` naming the file."""
    refuse_newer_summary(run_dir)
    return load_timeline(run_dir)


def _recorded_scenario(run_dir: Path, info: RunInfo) -> Scenario:
    if info.scenario is None:
        raise ConfigError(
            f"{run_dir / 'run.json'} records no scenario (a plain locust run without "
            "--scenario); pass --scenario FILE to judge it against one"
        )
    return info.scenario


def _outcome(info: RunInfo) -> tuple[RunStatus, str]:
    """How the judged run ended, and the note its summary carries."""
    if info.status is RunStatus.RUNNING:
        return RunStatus.ABORTED, KILLED_NOTE
    if info.status is RunStatus.ABORTED:
        return RunStatus.ABORTED, info.abort_reason or "the load stopped early"
    return RunStatus.COMPLETED, info.abort_reason or ""


def _write_report(timeline: Timeline, summary: Summary) -> None:
    try:
        write_report(timeline.run_dir, timeline, summary)
    except OSError as e:  # a full disk, say: the verdicts are written, the view is not
        logger.error(
            "could not write %s/report.html (verdicts are in summary.json): %s",
            timeline.run_dir,
            e.strerror or e,
        )
    except Exception:  # the report is a view: a bug in it must never change the verdict
        logger.exception(
            "could not write %s/report.html (verdicts are in summary.json)", timeline.run_dir
        )


def _event(run_dir: Path, t_ms: int, kind: EventKind, message: str = "") -> None:
    row = EventRow(t_ms, EventSource.HARNESS, kind, "", message)
    append_rows(run_dir, f"{WRITER}-{kind}", Table.EVENTS, [row])
