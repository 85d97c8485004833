"""One experiment, start to verdict: preflight, load child, drain, persist, judge.

``run_scenario`` is what ``slagate run`` and the pytest gate execute; ``check_run``
re-judges a recorded run folder offline. Neither exits: they return a ``RunResult`` or
raise a ``SlagateError`` that the CLI maps to an exit code.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from rich.console import Console

from slagate.errors import ConfigError, LoadError, SlagateError
from slagate.report import write_report
from slagate.run.child import STOP_GRACE_S, LoadProcess, load_command
from slagate.run.cluster import ClusterOptions, ClusterSession
from slagate.run.integrity import record_integrity
from slagate.run.preflight import check_reachable
from slagate.run.progress import ProgressDisplay, monotonic
from slagate.scenario import Scenario, load_scenario
from slagate.sla.judging import exit_code_for, judge
from slagate.sla.summary import Summary, write_summary
from slagate.sla.verdict import Verdict
from slagate.sla.windows import resolve_all_windows
from slagate.timeline import (
    TABLES,
    TableWriter,
    compact_table,
    load_timeline,
    new_run_dir,
    read_run_info,
    update_run_info,
)

POLL_S = 0.25
OVERRUN_S = 60.0  # a load child still running this long after its planned end is stopped
ACTION_MARGIN_S = 10.0  # beyond an action's own timeout, for its last API calls

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """What ``slagate run`` was asked to do. Overrides win over the scenario file."""

    scenario_path: Path
    host: str | None = None
    services: Mapping[str, str] = field(default_factory=dict)
    reports_dir: Path = Path("reports")
    run_dir: Path | None = None
    cluster: ClusterOptions = field(default_factory=ClusterOptions)


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    exit_code: int
    status: str  # completed | aborted
    verdicts: tuple[Verdict, ...]
    note: str = ""


@dataclass
class _Stop:
    """Why the run was told to stop early (a signal, an overrun), shared with handlers."""

    reason: str | None = None
    event: threading.Event = field(default_factory=threading.Event)

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.event.set()


def run_scenario(
    opts: RunOptions, console: Console, clock: Callable[[], float] = time.time
) -> RunResult:
    """Run one scenario end to end; the run folder is kept whatever happens after preflight."""
    scenario = load_scenario(opts.scenario_path)
    if opts.cluster.wanted(scenario):
        return _run_with_cluster(scenario, opts, console, clock)
    host, services = resolve_target(scenario, opts)
    _check_target(scenario, host, services)
    run_dir = _make_run_dir(scenario, opts, console, clock)
    return _run(scenario, opts, run_dir, host, services, None, console, clock)


def _run_with_cluster(
    scenario: Scenario, opts: RunOptions, console: Console, clock: Callable[[], float]
) -> RunResult:
    opts.cluster.check()
    run_dir = _make_run_dir(scenario, opts, console, clock)
    try:
        session = ClusterSession.open(scenario, opts.cluster, run_dir, console, clock)
    except SlagateError as e:
        _discard_or_mark_failed(run_dir, opts, str(e))
        raise
    try:
        host, services = resolve_target(scenario, opts, session.host, session.services)
        _check_target(scenario, host, services)
        return _run(scenario, opts, run_dir, host, services, session, console, clock)
    finally:
        session.close()


def _discard_or_mark_failed(run_dir: Path, opts: RunOptions, error: str) -> None:
    """Nothing ran: drop a run folder we created, unless it holds sandbox logs to read."""
    if opts.run_dir is None and not (run_dir / "sandbox").exists():
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    update_run_info(run_dir, status="failed", abort_reason=error[:500])


def _make_run_dir(
    scenario: Scenario, opts: RunOptions, console: Console, clock: Callable[[], float]
) -> Path:
    run_dir = opts.run_dir or new_run_dir(opts.reports_dir, scenario.name, clock())
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _check_target(scenario: Scenario, host: str, services: Mapping[str, str]) -> None:
    check_reachable(
        {"host": host, **{f"service {k}": v for k, v in services.items()}},
        scenario.target.preflight_path,
        scenario.target.preflight_timeout,
    )


def resolve_target(
    scenario: Scenario,
    opts: RunOptions,
    cluster_host: str | None = None,
    cluster_services: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """Host and named services: options, then the scenario, then the cluster's Services."""
    host = opts.host or scenario.target.host or cluster_host
    if not host:
        raise ConfigError(
            f"{opts.scenario_path}: no target: set target.host or target.kubernetes.service "
            "in the scenario, or pass --host URL"
        )
    services = {**(cluster_services or {}), **scenario.target.services, **opts.services}
    return host.rstrip("/"), {k: v.rstrip("/") for k, v in services.items()}


def _run(
    scenario: Scenario,
    opts: RunOptions,
    run_dir: Path,
    host: str,
    services: Mapping[str, str],
    session: ClusterSession | None,
    console: Console,
    clock: Callable[[], float],
) -> RunResult:
    console.print(f"run folder [bold]{run_dir}[/]")
    _start_run_info(run_dir, scenario, opts.scenario_path, host, services, clock)
    stop = _Stop()
    with _forwarding_signals(stop):
        code = _drive_load(
            scenario, opts.scenario_path, run_dir, host, services, console, stop, session
        )
        if session is not None:
            _after_load(scenario, session, console, stop)
    if _needs_read_back(scenario):
        _read_back(run_dir, host, console)
    if session is not None:
        session.close()
    return _finish(scenario, run_dir, code, stop.reason, clock)


def _start_run_info(
    run_dir: Path,
    scenario: Scenario,
    path: Path,
    host: str,
    services: Mapping[str, str],
    clock: Callable[[], float],
) -> None:
    started_ms = int(clock() * 1000)
    update_run_info(
        run_dir,
        run_id=run_dir.name,
        scenario_name=scenario.name,
        scenario_path=str(path),
        scenario=scenario.model_dump(mode="json", by_alias=True),
        host=host,
        services=dict(services),
        started_ms=started_ms,
        ended_ms=None,
        status="running",
        abort_reason=None,
        versions=_versions(),
    )
    _harness_event(run_dir, started_ms, "run_start")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("slagate", "locust", "kubernetes"):
        with contextlib.suppress(PackageNotFoundError):
            out[dist] = version(dist)
    return out


def _harness_event(run_dir: Path, t_ms: int, kind: str, message: str = "") -> None:
    writer = TableWriter(run_dir, f"controller-{kind}")
    writer.append("events", [(t_ms, "harness", kind, "", message)])
    writer.flush()


def _drive_load(
    scenario: Scenario,
    scenario_path: Path,
    run_dir: Path,
    host: str,
    services: Mapping[str, str],
    console: Console,
    stop: _Stop,
    session: ClusterSession | None,
) -> int:
    """Run the load child to its end or until told to stop; returns its exit code."""
    argv = load_command(scenario_path, run_dir, host, services)
    child = LoadProcess.start(argv, run_dir / "load.log", cwd=Path.cwd())
    deadline = monotonic() + scenario.load.duration_s + scenario.drain + OVERRUN_S
    display = ProgressDisplay(console, scenario.load.duration_s, monotonic)
    stopping = False
    with display:
        while child.proc.poll() is None:
            status = child.snapshot()
            display.update(status)
            if session is not None and status.load_start_ms is not None:
                session.load_started(status.load_start_ms)
            if monotonic() > deadline:
                stop.request("the load did not stop at its planned end")
            if stop.event.is_set() and not stopping:
                stopping = True
                child.stop()
            time.sleep(POLL_S)
        display.update(child.snapshot())
    code = child.wait(STOP_GRACE_S)
    if code == 2 or code not in (0, 3):
        _fail_run(run_dir, child, code)
    return code


def _after_load(scenario: Scenario, session: ClusterSession, console: Console, stop: _Stop) -> None:
    """Let running actions (rollout waits) end, then record the cooldown."""
    if not stop.event.is_set() and session.actions.pending:
        console.print("waiting for the scenario's actions to end")
        longest = max((getattr(a, "timeout", 0.0) for a in scenario.actions), default=0.0)
        deadline = monotonic() + longest + ACTION_MARGIN_S
        while not session.wait_actions(0.5) and not stop.event.is_set():
            if monotonic() > deadline:
                break
    if scenario.cooldown > 0 and not stop.event.is_set():
        console.print(f"cooldown: recording the cluster for {scenario.cooldown:g} s")
        stop.event.wait(scenario.cooldown)


def _needs_read_back(scenario: Scenario) -> bool:
    return any(s.kind == "no_lost_writes" for s in scenario.slas)


def _read_back(run_dir: Path, host: str, console: Console) -> None:
    try:
        summary = record_integrity(run_dir, host)
    except SlagateError as e:
        console.print(f"read-back of acknowledged writes failed: {e}")
        return
    console.print(f"read back {summary.checked} acknowledged writes: {summary.lost} missing")


@contextlib.contextmanager
def _forwarding_signals(stop: _Stop) -> Iterator[None]:
    """SIGINT/SIGTERM stop the run gracefully (the load child flushes and exits 3)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.request(f"stopped by {signal.Signals(signum).name}")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _fail_run(run_dir: Path, child: LoadProcess, code: int) -> None:
    update_run_info(run_dir, status="failed", ended_ms=int(time.time() * 1000))
    tail = child.log_tail()
    error = child.snapshot().error
    detail = error or tail or "(no output)"
    raise LoadError(
        f"the load generator could not run (exit {code}); the run folder {run_dir} "
        f"keeps its log (load.log):\n{_indent(detail)}"
    )


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _finish(
    scenario: Scenario, run_dir: Path, code: int, reason: str | None, clock: Callable[[], float]
) -> RunResult:
    ended_ms = int(clock() * 1000)
    _harness_event(run_dir, ended_ms, "run_end", reason or "")
    aborted = code == 3 or reason is not None
    info = read_run_info(run_dir)
    abort_reason = reason or info.get("abort_reason") or ("load stopped early" if aborted else None)
    status = "aborted" if aborted else "completed"
    update_run_info(run_dir, ended_ms=ended_ms, status=status, abort_reason=abort_reason)
    for table in TABLES:
        compact_table(run_dir, table)
    return judge_run(scenario, run_dir, aborted, note=abort_reason or "")


def judge_run(scenario: Scenario, run_dir: Path, aborted: bool, note: str = "") -> RunResult:
    """Judge a run folder's timeline, write summary.json, resolved windows and report.html.

    The report is a by-product: failing to write it is logged and changes no exit code.
    """
    timeline = load_timeline(run_dir)
    verdicts = tuple(judge(scenario, timeline))
    exit_code = exit_code_for(list(verdicts), aborted=aborted)
    update_run_info(run_dir, windows=resolve_all_windows(scenario, timeline))
    status = "aborted" if aborted else "completed"
    write_summary(run_dir, list(verdicts), exit_code, status=status, note=note)
    summary = Summary(exit_code, verdicts, {"status": status, "note": note})
    try:
        write_report(run_dir, timeline, summary)
    except Exception:  # the report is a view: a bug in it must never change the verdict
        logger.exception("could not write %s/report.html (verdicts are in summary.json)", run_dir)
    return RunResult(run_dir, exit_code, status, verdicts, note)


def check_run(run_dir: Path, scenario_path: Path | None = None) -> RunResult:
    """Re-judge a recorded run (offline), optionally against another scenario's SLAs."""
    info = read_run_info(run_dir)
    if scenario_path is not None:
        scenario = load_scenario(scenario_path)
    else:
        scenario = _recorded_scenario(run_dir, info)
    if info.get("status") == "failed":
        raise LoadError(f"{run_dir}: the load generator never ran; see {run_dir / 'load.log'}")
    aborted = info.get("status") in ("aborted", "running")
    note = str(info.get("abort_reason") or "")
    if info.get("status") == "running":
        note = "the run never finished (killed?); judged what was recorded"
    return judge_run(scenario, run_dir, aborted, note=note)


def _recorded_scenario(run_dir: Path, info: Mapping[str, object]) -> Scenario:
    from pydantic import ValidationError

    try:
        return Scenario.model_validate(info.get("scenario"))
    except ValidationError as e:
        raise ConfigError(
            f"{run_dir / 'run.json'}: the recorded scenario is invalid ({e.error_count()} "
            "problems); pass --scenario FILE to judge with a valid one"
        ) from e
