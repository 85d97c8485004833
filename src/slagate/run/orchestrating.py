"""One experiment, start to verdict: preflight, load child, actions, drain, persist, judge.

``run_scenario`` is what ``slagate run`` executes (and, through it, the pytest gate). It
never exits: it returns a ``RunResult`` or raises a ``SlagateError`` the CLI maps to an
exit code. The order of things::

    load the scenario -> (cluster: start sandbox, connect, preflight, record)
    -> target preflight -> begin_run -> load child (+ actions at their times)
    -> wait for actions, cooldown -> read back acknowledged writes -> stop the actions
    -> end_run -> the outcome reaches the cluster (``_settle``: undo rollouts of a run
    that did not pass) -> close the cluster -> finish_run (the same finish as every
    entry point)

Everything one run needs travels in a ``RunContext``; the wall clock is injected there and
nowhere else.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from slagate.errors import ConfigError, ExitCode, LoadError, SlagateError
from slagate.kube.streaming import StopSignal
from slagate.lifecycle import (
    LATEST_PASS,
    RunResult,
    begin_run,
    end_run,
    finish_run,
    judge_so_far,
    read_baseline,
)
from slagate.load.launching import (
    STOP_GRACE_S,
    LoadProcess,
    load_command,
    target_environment,
)
from slagate.load.workforce import Distribution
from slagate.run.cluster import ClusterOptions, ClusterSession
from slagate.run.live import STOP_RULE, LiveFeed, LiveJudge
from slagate.run.prometheus import ServerSide, prepare_server_side
from slagate.run.viewing import RunView
from slagate.scenario import Scenario, load_scenario, parse_url
from slagate.sla.verdict import Status
from slagate.target.reaching import check_reachable
from slagate.target.reading_back import record_integrity
from slagate.timeline import RunStatus, new_run_dir, read_run_info

POLL_S = 0.25
OVERRUN_S = 60.0  # a load child still running this long after its planned end is stopped
ACTION_MARGIN_S = 10.0  # beyond an action's own timeout, for its last API calls
LOG_TAIL_LINES = 15

Clock = Callable[[], float]


@dataclass(frozen=True)
class RunOptions:
    """What ``slagate run`` was asked to do. Overrides win over the scenario file."""

    scenario_path: Path
    host: str | None = None
    services: Mapping[str, str] = field(default_factory=dict)
    reports_dir: Path = Path("reports")
    run_dir: Path | None = None
    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    prometheus_url: str | None = None
    distribution: Distribution = field(default_factory=Distribution)
    """Locust master and workers instead of one load process (docs/distributed.md)."""
    baseline: str | None = None
    """What relative SLAs are judged against: a run folder or ``latest-pass``."""


@dataclass
class StopRequest:
    """Why the run was told to stop early, shared with handlers: a signal, an overrun
    (exit 3), or an SLA whose ``abort_on_fail`` was breached (``sla_id``; exit 1).

    Whatever must happen when a run was stopped reads it once the load ended:
    ``ctx.stop.requested`` (stopped early, for any reason) and ``ctx.stop.sla_id``.

    An SLA's stop lets the run finish as usual (the load child drains, Prometheus' lag
    is waited for); a signal, before or after it, ends those waits at once
    (``signalled``, ``pause``)."""

    reason: str | None = None
    sla_id: str | None = None
    window_end_ms: int | None = None
    """Where the stopping SLA's window ended when it stopped the run (run.json
    ``stop_window_end_ms``)."""
    event: threading.Event = field(default_factory=threading.Event)
    signalled: threading.Event = field(default_factory=threading.Event)

    def request(
        self, reason: str, sla_id: str | None = None, window_end_ms: int | None = None
    ) -> None:
        """Stop with ``reason`` (the first reason wins, and its ``sla_id`` with it)."""
        if self.reason is None:
            self.reason, self.sla_id, self.window_end_ms = reason, sla_id, window_end_ms
        self.event.set()

    def signal(self, reason: str) -> None:
        """A signal (SIGINT, SIGTERM): stop, and cut every wait short, even after an
        SLA's stop (whose reason, first, stays the run's)."""
        self.signalled.set()
        self.request(reason)

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` unless cut short: by any stop, or after an SLA's stop only by
        a signal. True if it was cut short."""
        return (self.event if self.sla_id is None else self.signalled).wait(seconds)

    @property
    def hurried(self) -> bool:
        """Stopped by something else than an SLA, or signalled since: no more waiting."""
        return self.requested and (self.sla_id is None or self.signalled.is_set())

    @property
    def requested(self) -> bool:
        return self.event.is_set()


@dataclass
class RunContext:
    """One run in progress: what it runs, where it writes, whom it tells, its clock."""

    scenario: Scenario
    options: RunOptions
    run_dir: Path
    view: RunView
    clock: Clock
    stop: StopRequest = field(default_factory=StopRequest)
    cluster: ClusterSession | None = None
    server_side: ServerSide | None = None
    host: str = ""
    services: dict[str, str] = field(default_factory=dict)
    started_ms: int = 0

    def now_ms(self) -> int:
        return int(self.clock() * 1000)


def run_scenario(opts: RunOptions, view: RunView, clock: Clock = time.time) -> RunResult:
    """Run one scenario end to end; the run folder is kept whatever happens after preflight."""
    check_options(opts)
    scenario = load_scenario(opts.scenario_path)
    if opts.baseline is not None and opts.baseline != LATEST_PASS:
        read_baseline(Path(opts.baseline), scenario.name)  # a wrong folder: before any load
    if not opts.cluster.wanted(scenario):
        host, services = resolve_target(scenario, opts)
        _check_target(scenario, host, services)
        server_side = _server_side(scenario, opts, None)
        ctx = RunContext(scenario, opts, _make_run_dir(scenario, opts, clock), view, clock)
        ctx.host, ctx.services, ctx.server_side = host, services, server_side
        return _run(ctx)
    ctx = RunContext(scenario, opts, _make_run_dir(scenario, opts, clock), view, clock)
    try:
        _open_cluster(ctx)
    except SlagateError as e:
        _abandon(ctx, str(e))
        raise
    return _run(ctx)


def check_options(opts: RunOptions) -> None:
    """Option mistakes found without the scenario or the network: a URL that is none, a
    folder that is a file; before any folder, request or process exists."""
    if opts.host is not None:
        parse_url(opts.host, "--host")
    if opts.prometheus_url is not None:
        parse_url(opts.prometheus_url, "--prometheus-url")
    for option, folder in (("--reports", opts.reports_dir), ("--run-dir", opts.run_dir)):
        if folder is not None and folder.exists() and not folder.is_dir():
            raise ConfigError(f"{option} {folder}: is a file, not a folder; pass a folder")
    opts.cluster.check()
    opts.distribution.check()


def _open_cluster(ctx: RunContext) -> None:
    session = ClusterSession.open(
        ctx.scenario,
        ctx.options.cluster,
        ctx.run_dir,
        ctx.view,
        ctx.clock,
        f"{ctx.options.scenario_path}: sandbox",
    )
    ctx.cluster = session
    try:
        ctx.host, ctx.services = resolve_target(
            ctx.scenario, ctx.options, session.host, session.services
        )
        _check_target(ctx.scenario, ctx.host, ctx.services)
        ctx.server_side = _server_side(ctx.scenario, ctx.options, session)
    except BaseException:
        session.close()
        raise


def _abandon(ctx: RunContext, error: str) -> None:
    """Nothing ran: drop a run folder we created, unless it holds sandbox logs to read;
    then it records why the run failed."""
    if ctx.options.run_dir is None and not (ctx.run_dir / "sandbox").exists():
        shutil.rmtree(ctx.run_dir, ignore_errors=True)
        return
    _begin(ctx)
    end_run(ctx.run_dir, ended_ms=ctx.now_ms(), status=RunStatus.FAILED, reason=error)


def _make_run_dir(scenario: Scenario, opts: RunOptions, clock: Clock) -> Path:
    run_dir = opts.run_dir or new_run_dir(opts.reports_dir, scenario.name, clock())
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _check_target(scenario: Scenario, host: str, services: Mapping[str, str]) -> None:
    target_environment(host, services)  # refuses a URL the load child cannot be given
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


def _server_side(
    scenario: Scenario, opts: RunOptions, cluster: ClusterSession | None
) -> ServerSide | None:
    kube = scenario.target.kubernetes
    namespace = cluster.namespace if cluster else (kube.namespace if kube else "default")
    return prepare_server_side(
        scenario,
        namespace,
        option_url=opts.prometheus_url,
        sandbox_url=cluster.prometheus_url if cluster else None,
        sandbox=opts.cluster.sandbox is not None,
    )


def _begin(ctx: RunContext) -> None:
    cluster = ctx.cluster.info(ctx.options.cluster.context) if ctx.cluster else None
    ctx.started_ms = ctx.now_ms()
    begin_run(
        ctx.run_dir,
        started_ms=ctx.started_ms,
        scenario=ctx.scenario,
        scenario_path=ctx.options.scenario_path,
        host=ctx.host or None,
        services=ctx.services,
        cluster=cluster,
        prometheus=ctx.server_side.info if ctx.server_side else None,
    )


def _run(ctx: RunContext) -> RunResult:
    ctx.view.say(f"run folder {ctx.run_dir}")
    if ctx.options.distribution.distributed:
        ctx.view.say(describe_distribution(ctx.options.distribution))
    _begin(ctx)
    try:
        with _forwarding_signals(ctx.stop.signal):
            child = _drive_load(ctx)
            if ctx.cluster is not None:
                _after_load(ctx, ctx.cluster)
            if any(s.kind == "no_lost_writes" for s in ctx.scenario.slas):
                _read_back(ctx)
            if ctx.server_side is not None:
                _fetch_server_side(ctx, ctx.server_side)
        if ctx.cluster is not None:
            ctx.cluster.actions.stop()
        status, reason = _load_outcome(ctx, child)
        stopped_by = ctx.stop.sla_id if reason == ctx.stop.reason else None
        end_run(
            ctx.run_dir,
            ended_ms=ctx.now_ms(),
            status=status,
            reason=reason,
            stopped_by=stopped_by,
            stop_window_end_ms=ctx.stop.window_end_ms,
        )
        if ctx.cluster is not None:
            _settle(ctx, ctx.cluster)
    finally:
        if ctx.cluster is not None:
            ctx.cluster.close()
    return finish_run(ctx.run_dir, ctx.scenario, ctx.options.baseline)


def _settle(ctx: RunContext, cluster: ClusterSession) -> None:
    """The run's outcome reaches the cluster (``ClusterSession.run_ended``): judged now,
    as ``finish_run`` will judge it, only if a rollout may be undone. A signal meanwhile
    cuts the undo's wait short (the undo itself goes on in the cluster)."""
    if not cluster.rolls_back:
        return
    cluster.recorder.flush()
    code, verdicts = judge_so_far(ctx.run_dir, ctx.scenario, ctx.options.baseline)
    failed = [v.id for v in verdicts if v.status is not Status.PASS]
    if code is ExitCode.ABORTED:
        why = f"the run was aborted ({ctx.stop.reason or 'stopped early'})"
    else:
        why = f"the run failed ({', '.join(failed) or 'no verdict'} did not pass)"
    if code is not ExitCode.PASSED:
        ctx.view.say(f"undoing the rollouts with on_fail: rollback: {why}")
    stop = StopSignal()
    with _forwarding_signals(lambda _: stop.set()):
        for outcome in cluster.run_ended(code, why, stop):
            ctx.view.say(f"rollback of deployment/{outcome.deployment}: {outcome.message}")


def _drive_load(ctx: RunContext) -> LoadProcess:
    """Run the load child to its end or until told to stop; a ``LoadError`` if it failed.
    While it runs, the SLAs are judged live (``slagate.run.live``)."""
    opts = ctx.options
    argv = load_command(opts.scenario_path, ctx.run_dir, opts.distribution)
    env = target_environment(ctx.host, ctx.services)
    live = _live_judge(ctx)
    feed = live.feed if live is not None else None
    child = LoadProcess.start(argv, ctx.run_dir / "load.log", cwd=Path.cwd(), feed=feed, env=env)
    planned_s = ctx.scenario.load.duration_s
    deadline = (
        time.monotonic()
        + planned_s
        + ctx.scenario.drain
        + OVERRUN_S
        + opts.distribution.gathering_s
    )
    try:
        while child.proc.poll() is None:
            _follow(ctx, child, planned_s)
            if live is not None and not ctx.stop.requested:
                _judge_live(ctx, child, live)
            if time.monotonic() > deadline:
                ctx.stop.request("the load did not stop at its planned end")
            if ctx.stop.hurried or time.monotonic() > deadline:
                child.stop()
            _pause(live)
        ctx.view.load_progress(child.snapshot(), planned_s)
    finally:
        ctx.view.load_done()
    code = child.wait(STOP_GRACE_S)
    if code not in (ExitCode.PASSED, ExitCode.ABORTED) and _killed(child) is None:
        _fail(ctx, child, code)
    return child


def _pause(live: LiveJudge | None) -> None:
    """Until the next poll, or until the load child's rows arrive to be judged (rows
    that came before their judgement is due are looked at again shortly)."""
    if live is None:
        time.sleep(POLL_S)
    elif live.feed.arrived.is_set():
        time.sleep(POLL_S / 5)
    else:
        live.feed.arrived.wait(POLL_S)


def _live_judge(ctx: RunContext) -> LiveJudge | None:
    if not ctx.scenario.slas:
        return None
    feed = LiveFeed(ctx.run_dir, read_run_info(ctx.run_dir))
    return LiveJudge(ctx.scenario, feed, ctx.view)


def _judge_live(ctx: RunContext, child: LoadProcess, live: LiveJudge) -> None:
    """Judge the data so far; an ``abort_on_fail`` SLA breached beyond repair stops the
    load at once (the child records the ``abort`` event) and names itself the cause."""
    cause = live.tick(ctx.now_ms())
    if cause is None:
        return
    spec, status = cause
    why = status.note or status.verdict.message
    reason = f"SLA {spec.sla_id} breached with abort_on_fail: {why}"
    ctx.stop.request(reason, sla_id=spec.sla_id, window_end_ms=status.window_end_ms)
    ctx.view.say(f"stopping the load: {reason}")
    child.abort(STOP_RULE, reason)


def describe_distribution(plan: Distribution) -> str:
    """The run's output line for a distributed load."""
    local = f"{plan.local_workers} local worker process(es)" if plan.local_workers else ""
    remote = plan.expected - plan.local_workers
    where = f"listening on {plan.listen_host}:{plan.listen_port}" if plan.master else ""
    parts = [p for p in (local, f"{remote} remote worker(s)" if remote else "", where) if p]
    return f"load: a Locust master with {', '.join(parts)}"


def _killed(child: LoadProcess) -> str | None:
    """Why the run is aborted if a signal killed the child after its load began (what it
    flushed is judged); None otherwise (before the load, a death is a failure to run)."""
    code = child.proc.returncode
    if code is None or code >= 0 or child.snapshot().load_start_ms is None:
        return None
    name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
    return f"the load generator was killed ({name}); judged what it had flushed"


def _follow(ctx: RunContext, child: LoadProcess, planned_s: float) -> None:
    status = child.snapshot()
    ctx.view.load_progress(status, planned_s)
    if ctx.cluster is not None and status.load_start_ms is not None:
        ctx.cluster.load_started(status.load_start_ms)


def _fail(ctx: RunContext, child: LoadProcess, code: int) -> None:
    detail = child.snapshot().error or child.log_tail(LOG_TAIL_LINES) or "(no output)"
    end_run(ctx.run_dir, ended_ms=ctx.now_ms(), status=RunStatus.FAILED, reason=detail)
    raise LoadError(
        f"the load generator could not run (exit {code}); the run folder {ctx.run_dir} "
        f"keeps its log (load.log):\n{_indent(detail)}"
    )


def _load_outcome(ctx: RunContext, child: LoadProcess) -> tuple[RunStatus, str | None]:
    """Completed, or aborted with why: the run's own stop, else what the child said."""
    ended = child.snapshot()
    if ctx.stop.reason is not None:
        return RunStatus.ABORTED, ctx.stop.reason
    killed = _killed(child)
    if killed is not None:
        return RunStatus.ABORTED, killed
    if ended.ended is RunStatus.ABORTED or child.proc.returncode == ExitCode.ABORTED:
        return RunStatus.ABORTED, ended.end_reason or "the load stopped early"
    return RunStatus.COMPLETED, None


def _after_load(ctx: RunContext, cluster: ClusterSession) -> None:
    """Let running actions (rollout waits) end, then record the cooldown."""
    if not ctx.stop.requested and cluster.actions_pending:
        ctx.view.say("waiting for the scenario's actions to end")
        longest = max((getattr(a, "timeout", 0.0) for a in ctx.scenario.actions), default=0.0)
        deadline = time.monotonic() + longest + ACTION_MARGIN_S
        while not cluster.wait_actions(0.5) and not ctx.stop.requested:
            if time.monotonic() > deadline:
                break
    cooldown = ctx.scenario.cooldown
    if cooldown > 0 and not ctx.stop.requested:
        ctx.view.say(f"cooldown: recording the cluster for {cooldown:g} s")
        ctx.stop.pause(cooldown)


def _read_back(ctx: RunContext) -> None:
    try:
        summary = record_integrity(ctx.run_dir, ctx.host)
    except SlagateError as e:
        ctx.view.say(f"read-back of acknowledged writes failed: {e}")
        return
    ctx.view.say(f"read back {summary.checked} acknowledged writes: {summary.lost} missing")


def _fetch_server_side(ctx: RunContext, server_side: ServerSide) -> None:
    """The run's PromQL series, while the cluster (and a sandbox's Prometheus) is up.

    First the plan's lag passes: the last requests must be scraped before they can be
    fetched (a counter read before its last scrape misses the load's final second)."""
    lag_s = server_side.plan.lag_s
    ctx.view.say(f"waiting {lag_s:g} s for Prometheus to scrape the last requests")
    ctx.stop.pause(lag_s)  # a signal cuts the wait short, an SLA's stop does not
    fetched = server_side.fetch(ctx.run_dir, ctx.started_ms, ctx.now_ms(), ctx.clock)
    failed = f"; could not fetch {', '.join(fetched.failed)}" if fetched.failed else ""
    ctx.view.say(f"fetched {fetched.samples} samples from {server_side.info.url}{failed}")


@contextlib.contextmanager
def _forwarding_signals(on_signal: Callable[[str], None]) -> Iterator[None]:
    """SIGINT/SIGTERM call ``on_signal(why)`` instead of interrupting: the run stops
    gracefully (the load child flushes and exits 3), an undo stops waiting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        on_signal(f"stopped by {signal.Signals(signum).name}")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
