"""The load child: ``python -m slagate.load --scenario FILE --run-dir DIR ...``.

``slagate run`` starts this process so that Locust's gevent patching never reaches the
controller. It drives Locust as a library (docs/locust.md, "Library mode"):
real parsed options, ``init``/``quitting`` fired here, a local runner running the
scenario's shape, and the end of the load taken from ``test_stop``. With ``--workers`` or
``--master`` the runner is a Locust master instead: it starts its local workers, waits
for the expected ones, watches them and drains their last reports before the final
flush (``slagate.load.distributing``, docs/distributed.md). It records through the
same wiring as the plugin and streams progress on stdout (``slagate.load.progress``).

The load stops when the shape ends (exit 0, after up to ``drain`` seconds for users to
finish what they are doing), on SIGTERM/SIGINT, when the abort rule trips or at
``limits.max_duration`` (exit 3). Either way the data up to the stop is flushed and an
``end`` line says how it ended: the controller owns run.json, this process never writes
it. Exit 2: it could not run (message on stderr and as an ``error`` line).

The target's URLs come in the environment, ``LOCUST_HOST`` and ``SLAGATE_SERVICES``
(``NAME=URL,...``), never on the command line: they may carry a password.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import locust
import locust.log
from gevent.fileobject import FileObject
from locust.argument_parser import get_parser
from locust.env import Environment
from locust.exception import RPCError
from locust.runners import WORKER_REPORT_INTERVAL

from slagate.errors import ExitCode, LoadError, SlagateError
from slagate.load.distributing import LocalWorkers, WorkerWatch
from slagate.load.environment import DISK_FULL_RULE, Recording, attach
from slagate.load.importing import load_user_classes
from slagate.load.options import HOST_ENV, SERVICES_ENV
from slagate.load.plugin import guard_abort_rule, register
from slagate.load.progress import ProgressStream
from slagate.load.recorder import Clock
from slagate.load.workforce import DEFAULT_WAIT_S, Distribution
from slagate.scenario import Scenario, format_services, load_scenario, parse_services
from slagate.timeline import RunStatus, StopReason

logger = logging.getLogger(__name__)

TICK_OFFSET_S = 0.05
"""Progress goes out this long after each whole second: the second just ended is then
complete but for requests the hub reports late (they come with its collected rows)."""
STOP_COMMAND = "stop"
OVERRUN_GRACE_S = 2.0  # the shape ends the load at max_duration; this is the backstop
ALL_LOST = "every worker was lost: the load stopped before its end"


@dataclass(frozen=True)
class ChildArgs:
    scenario: Path
    run_dir: Path
    host: str | None = None
    services: dict[str, str] = field(default_factory=dict)
    flush_interval_s: float | None = None
    commands: bool = False
    distribution: Distribution = field(default_factory=Distribution)


def parse_args(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> ChildArgs:
    """The command line, and the target's URLs from ``environ`` (``LOCUST_HOST``,
    ``SLAGATE_SERVICES``: kept off the command line, ``launching.target_environment``)."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="python -m slagate.load", description=__doc__)
    parser.add_argument("--scenario", required=True, type=Path, help="scenario file")
    parser.add_argument("--run-dir", required=True, type=Path, help="run folder to write")
    parser.add_argument("--flush-interval", type=float, metavar="SECONDS")
    parser.add_argument(
        "--commands-on-stdin",
        action="store_true",
        help='read JSON commands from stdin: {"type": "stop", "rule", "message"} (the controller)',
    )
    parser.add_argument("--workers", type=int, default=0, help="local worker processes")
    parser.add_argument("--expect-workers", type=int, default=0, help="workers to wait for")
    parser.add_argument("--master", action="store_true", help="accept remote workers")
    parser.add_argument("--master-bind-host", help="interface the master listens on")
    parser.add_argument("--master-port", type=int, help="port the master listens on (0: any)")
    parser.add_argument("--expect-workers-max-wait", type=float, default=DEFAULT_WAIT_S)
    ns = parser.parse_args(argv)
    try:
        services = parse_services(environ.get(SERVICES_ENV, "").split(","), SERVICES_ENV)
    except SlagateError as e:
        parser.error(str(e))
    distribution = Distribution(
        local_workers=ns.workers,
        expect_workers=ns.expect_workers,
        master=ns.master,
        bind_host=ns.master_bind_host,
        port=ns.master_port,
        wait_s=ns.expect_workers_max_wait,
    )
    host = environ.get(HOST_ENV) or None
    return ChildArgs(
        ns.scenario,
        ns.run_dir,
        host,
        services,
        ns.flush_interval,
        ns.commands_on_stdin,
        distribution,
    )


def main(argv: Sequence[str] | None = None) -> ExitCode:
    """Run the load; returns the child's exit code (passed, could not run or aborted)."""
    stream = ProgressStream(sys.stdout)
    try:
        args = parse_args(argv)
    except SystemExit as e:  # argparse printed the usage error on stderr
        if e.code:
            stream.error("invalid arguments to python -m slagate.load; see stderr")
        raise
    sys.stdout = sys.stderr  # a locustfile's print() must not corrupt the progress stream
    locust.log.setup_logging("INFO")  # type: ignore[no-untyped-call]
    try:
        run = prepare(args, stream)
    except SlagateError as e:
        logger.error("slagate: %s", e)
        stream.error(str(e))
        return ExitCode.COULD_NOT_RUN
    except Exception as e:  # Locust refused the setup (e.g. duplicate User class names)
        logger.exception("slagate: the load generator could not start")
        stream.error(f"the load generator could not start: {type(e).__name__}: {e}")
        return ExitCode.COULD_NOT_RUN
    return run.run()


def prepare(args: ChildArgs, stream: ProgressStream, clock: Clock = time.time) -> LoadRun:
    """Import the locustfile, build Locust's environment and the recording, fire ``init``."""
    scenario = load_scenario(args.scenario)
    path = Path(scenario.load.locustfile)
    user_classes = load_user_classes(path, scenario.load.user_classes, args.scenario)
    register(locust.events)  # the locustfile may not have imported slagate.locust_plugin
    host = args.host or scenario.target.host
    _check_host(host, user_classes)
    environment = Environment(
        user_classes=user_classes,
        events=locust.events,
        host=host,
        locustfile=path.name,
        parsed_options=_locust_options(_locust_argv(args, scenario, host)),
        parsed_locustfiles=[str(path)],  # what a worker started with ``-f -`` is sent
        stop_timeout=scenario.drain,
    )
    runner = _runner(environment, args.distribution)
    recording = attach(environment, managed=True, scenario=scenario, clock=clock)
    assert isinstance(recording, Recording)
    recording.session.on_event(stream.event)
    environment.events.init.fire(environment=environment, runner=runner, web_ui=None)  # type: ignore[no-untyped-call]
    if locust.log.unhandled_greenlet_exception:
        raise LoadError(f"an init listener of {path} failed; see the traceback above")
    return LoadRun(environment, recording, stream, clock, args.distribution, commands=args.commands)


def _runner(environment: Environment, distribution: Distribution) -> Any:
    """A local runner, or a master for a distributed load (a ``LoadError`` if its port
    cannot be bound)."""
    distribution.check()
    if not distribution.distributed:
        return environment.create_local_runner()
    host, port = distribution.listen_host, distribution.listen_port
    try:
        return environment.create_master_runner(master_bind_host=host, master_bind_port=port)
    except (RPCError, OSError) as e:
        raise LoadError(
            f"the Locust master cannot listen on {host}:{port}: {e}; pass a free --master-port"
        ) from e


def _check_host(host: str | None, user_classes: list[Any]) -> None:
    if host is None and not all(getattr(cls, "host", None) for cls in user_classes):
        raise LoadError(
            f"no target host: set {HOST_ENV} or target.host in the scenario "
            "(slagate run: --host URL)"
        )


def _locust_options(argv: list[str]) -> Any:
    """Locust's parsed options, as its own ``main`` would have them (no config files)."""
    try:
        return get_parser(default_config_files=[]).parse_args(argv)
    except SystemExit as e:  # argparse already printed why
        raise LoadError(f"Locust rejected the options {argv}") from e


def _locust_argv(args: ChildArgs, scenario: Scenario, host: str | None) -> list[str]:
    """``stop_timeout`` (the drain) goes to the Environment: Locust's option takes ints.

    A master is not ``--headless``: at the end of a headless shape Locust quits at once,
    which tells the workers to quit and stops listening half a second later, before
    their last reports arrive. Without it the shape's end stops the workers, and
    ``LoadRun`` quits them once their last reports are in (docs/distributed.md)."""
    headless = [] if args.distribution.distributed else ["--headless"]
    argv = ["-f", scenario.load.locustfile, *headless, "--exit-code-on-error", "0"]
    argv += ["--scenario", str(args.scenario), "--run-dir", str(args.run_dir)]
    argv += ["--host", host] if host else []
    argv += ["--services", format_services(args.services)] if args.services else []
    if args.flush_interval_s is not None:
        argv += ["--slagate-flush-interval", str(args.flush_interval_s)]
    return argv


class LoadRun:
    """One load from ``start_shape`` to the final flush; ``run`` returns the exit code."""

    def __init__(
        self,
        environment: Any,
        recording: Recording,
        stream: ProgressStream,
        clock: Clock,
        distribution: Distribution | None = None,
        *,
        commands: bool = False,
    ) -> None:
        self.environment = environment
        self.recording = recording
        self.session = recording.session
        self.stream = stream
        self.distribution = distribution or Distribution()
        self._clock = clock
        self._local_workers: LocalWorkers | None = None
        self._watch: WorkerWatch | None = None
        self._wake = gevent.event.Event()  # a stop was asked for, or the load stopped
        self._stopped = gevent.event.Event()  # Locust's test_stop fired
        environment.events.test_stop.add_listener(self._on_test_stop)
        guard_abort_rule(recording, on_trip=self._wake.set)
        recording.flusher.on_disk_full = self._on_disk_full
        self.session.on_collect(lambda batch, through: stream.rows(batch, through, final=True))
        self._commands = commands

    @property
    def scenario(self) -> Scenario:
        assert self.recording.scenario is not None
        return self.recording.scenario

    def run(self) -> ExitCode:
        try:
            return self._run()
        finally:
            if self._local_workers is not None:
                self._local_workers.close()

    def _run(self) -> ExitCode:
        try:
            self._gather_workers()
        except SlagateError as e:  # before any load: could not run
            logger.error("slagate: %s", e)
            self.stream.error(str(e))
            self.environment.runner.quit()
            return ExitCode.COULD_NOT_RUN
        try:
            self._drive()
        except SlagateError as e:  # the last flush could not be written: one line says why
            logger.error("slagate: %s", e)
            self.stream.error(str(e))
            return ExitCode.COULD_NOT_RUN
        except Exception as e:  # a crash mid-run: keep what was recorded, say so
            logger.exception("slagate: the load generator failed")
            self.stream.error(f"the load generator failed: {type(e).__name__}: {e}")
            return ExitCode.COULD_NOT_RUN
        if self.session.aborted:
            self.stream.end(RunStatus.ABORTED, self.session.abort_reason)
            return ExitCode.ABORTED
        self.stream.end(RunStatus.COMPLETED, None)
        return ExitCode.PASSED

    def _drive(self) -> None:
        handlers = [
            gevent.signal_handler(
                sig, self.request_stop, StopReason.SIGNAL, "", f"stopped by {sig.name}"
            )
            for sig in (signal.SIGTERM, signal.SIGINT)
        ]
        helpers = [gevent.spawn(self._tick_loop), self._overrun_watchdog()]
        if self._commands:
            helpers.append(gevent.spawn(self._read_commands))
        self.environment.runner.start_shape()
        if self._watch is not None:
            self._watch.start()
        self._wake.wait()
        self._stop_load()
        if self._watch is not None:
            self._drain_workers(self._watch)
        gevent.killall(helpers)
        for handler in handlers:
            handler.cancel()
        self.environment.events.quitting.fire(environment=self.environment, reverse=True)
        self.recording.finish()  # after quitting: a locustfile's listeners may still record
        self._report_progress()

    def _gather_workers(self) -> None:
        """Distributed: start the local workers, wait for all expected ones (else a
        ``LoadError`` naming how many are missing)."""
        plan = self.distribution
        if not plan.distributed:
            return
        port = self.environment.runner.server.port
        if plan.local_workers:
            locustfile = self.scenario.load.locustfile
            self._local_workers = LocalWorkers.start(
                plan.local_workers, port, locustfile, self.session.run_dir
            )
        self._watch = WorkerWatch(self.recording, plan.expected, plan.wait_s)
        listening = f"{plan.listen_host}:{port}"
        logger.info("slagate: master on %s waits for %d workers", listening, plan.expected)
        self._watch.wait_for_workers(self._local_workers)

    def _drain_workers(self, watch: WorkerWatch) -> None:
        """Every worker's last rows merged, then the workers told to quit. A load that
        stopped because no worker was left is aborted: it ended before its shape did."""
        watch.drain()
        self.environment.runner.quit()
        shape = self.recording.shape
        if not watch.roster.active and shape is not None and not shape.finished:
            self.session.stop(StopReason.ABORT, ALL_LOST)

    def _overrun_watchdog(self) -> gevent.Greenlet:
        cap = self.scenario.limits.max_duration
        explanation = f"the load ran past limits.max_duration ({cap:g} s) and was stopped"
        return gevent.spawn_later(
            cap + OVERRUN_GRACE_S, self.request_stop, StopReason.ABORT, "max_duration", explanation
        )

    def request_stop(self, reason: StopReason, rule: str, explanation: str) -> None:
        """Stop the load early (signal or abort rule); ignored once the load is ending."""
        shape = self.recording.shape
        ending = self._stopped.is_set() or (shape is not None and shape.finished)
        if not ending:
            self.recording.stop_load(reason, rule, explanation)
        self._wake.set()

    def _on_disk_full(self, why: str) -> None:
        self.request_stop(StopReason.ABORT, DISK_FULL_RULE, why)

    def _on_test_stop(self, **_kw: Any) -> None:
        self._stopped.set()
        self._wake.set()

    def _stop_load(self) -> None:
        """A master is stopped, not quit: its workers must stop and send their last
        reports before they are told to quit (``_drain_workers``)."""
        if not self._stopped.is_set() and self.session.aborted:
            runner = self.environment.runner
            if self._watch is not None:
                runner.stop()
            else:
                runner.quit()
        self._stopped.wait(timeout=self.scenario.drain + 30.0)

    def _tick_loop(self) -> None:
        """Progress and the just-ended second's provisional rows, just after each second."""
        while True:
            now = self._clock()
            gevent.sleep(math.floor(now) + 1 + TICK_OFFSET_S - now)
            self._report_progress()
            self._report_last_second()

    def _report_last_second(self) -> None:
        recorder = self.session.recorder
        last = math.floor(self._clock()) - 1
        collected = recorder.collected_through_s
        if collected is None or last > collected:
            self.stream.rows(recorder.peek(last), last, final=False)

    def _read_commands(self) -> None:
        """The controller's commands, one JSON object a line on stdin, until it closes.
        ``stop``: a safety stop decided by the controller (an ``abort_on_fail`` SLA)."""
        commands = FileObject(sys.stdin.fileno(), "r", close=False)
        for line in commands:
            try:
                command = json.loads(line)
            except ValueError:
                continue
            if isinstance(command, dict) and command.get("type") == STOP_COMMAND:
                rule, message = str(command.get("rule", "")), str(command.get("message", ""))
                self.request_stop(StopReason.ABORT, rule, message)

    @property
    def _progress_lag_s(self) -> int:
        """The second the progress line shows: the last one, or with workers the last one
        that has surely arrived (they report every 3 s, completed seconds only)."""
        return 1 if self._watch is None else int(WORKER_REPORT_INTERVAL) + 2

    def _report_progress(self) -> None:
        now = self._clock()
        recorder = self.session.recorder
        last = recorder.second_totals(int(now) - self._progress_lag_s)
        users = self.environment.runner.user_count
        self.stream.progress(int(now * 1000), users, recorder.totals, last)
