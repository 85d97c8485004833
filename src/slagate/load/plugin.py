"""slagate's Locust plugin: options, a recorded timeline for every run, SLAs with --scenario.

``register(locust.events)`` (what ``import slagate.locust_plugin`` does) adds three
listeners; everything else is wired in ``init``, once Locust made its runner:

- ``init_command_line_parser``: ``--scenario``, ``--run-dir``, ``--services``,
  ``--slagate-flush-interval``, ``--slagate-failure-rows``, ``--slagate-max-endpoints``
  (``slagate.load.options``);
- ``init``: ``slagate.load.environment.attach``: the recorder, run folder and flusher on the
  local runner or master, a recorder reporting to the master on workers. An invalid
  option or scenario ends Locust with exit code 2 and a one-line message;
  With a scenario that has an ``abort`` rule, ``slagate.load.guarding`` watches it;
- ``quitting``: stop the load if it still runs, final flush, run.json; with a scenario,
  finish the run as every entry point does (``slagate.lifecycle.finish_run``: compacted
  tables, summary.json, report.html) and set Locust's exit code from the verdicts.

``quitting`` is registered at import, before any runner exists: Locust fires it in
reverse order, so ours runs after a master has sent its workers "quit" and received their
last reports. Locustfiles use ``service_url`` and ``acknowledge``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from locust.runners import STATE_STOPPED, LocalRunner

from slagate.errors import ExitCode, SlagateError
from slagate.lifecycle import finish_run
from slagate.load.environment import Recording, attach, recording_of
from slagate.load.guarding import AbortGuard
from slagate.load.options import PluginOptions, add_options, resolve_service
from slagate.sla.formatting import printable
from slagate.timeline import StopReason

logger = logging.getLogger(__name__)

_MARK = "_slagate_registered"
NOT_FINISHED = "Locust was stopped before the scenario's load shape finished"


def register(events: Any) -> None:
    """Add slagate's listeners to a Locust ``Events`` object (idempotent)."""
    if getattr(events, _MARK, False):
        return
    setattr(events, _MARK, True)
    events.init_command_line_parser.add_listener(_on_parser)
    events.init.add_listener(_on_init)
    events.quitting.add_listener(_on_quitting)


def _on_parser(parser: Any, **_kw: Any) -> None:
    add_options(parser)


def _on_init(environment: Any, runner: Any = None, **_kw: Any) -> None:
    if runner is None:
        return
    try:
        recording = attach(environment)
    except SlagateError as e:
        logger.error("slagate: %s", printable(str(e)))
        raise SystemExit(ExitCode.COULD_NOT_RUN) from e
    if isinstance(recording, Recording) and not recording.managed:
        guard_abort_rule(recording)
        _warn_unwatched(recording)


def _warn_unwatched(recording: Recording) -> None:
    """Plain ``locust -f`` judges at the end only: an ``abort_on_fail`` cannot act here."""
    scenario = recording.scenario
    watched = [s.sla_id for s in scenario.slas if s.abort_on_fail] if scenario else []
    if watched:
        logger.warning(
            "slagate: abort_on_fail (%s) is acted on by `slagate run` only; under plain "
            "locust these SLAs are judged at the end like the others",
            printable(", ".join(watched)),
        )


def guard_abort_rule(recording: Recording, on_trip: Callable[[], None] = lambda: None) -> None:
    """Watch the scenario's abort rule, if it has one (``slagate.load.guarding``)."""
    rule = recording.scenario.abort if recording.scenario is not None else None
    if rule is not None:
        AbortGuard(recording, rule, on_trip=on_trip).install()


def _on_quitting(environment: Any, **_kw: Any) -> None:
    recording = recording_of(environment)
    if not isinstance(recording, Recording) or recording.managed or recording.session.closed:
        return
    _stop_load(environment, recording)
    try:
        recording.finish()
    except SlagateError as e:  # the final flush or run.json: a full disk, a folder gone
        logger.error("slagate: %s", printable(str(e)))  # one line, as slagate run says it
        environment.process_exit_code = ExitCode.COULD_NOT_RUN
        return
    if recording.scenario is not None:
        environment.process_exit_code = _judge(recording)


def _stop_load(environment: Any, recording: Recording) -> None:
    shape = recording.shape
    if shape is not None and not shape.finished:
        recording.session.stop(StopReason.SIGNAL, NOT_FINISHED)
    runner = environment.runner
    if isinstance(runner, LocalRunner) and runner.state != STATE_STOPPED:
        runner.stop()


def _judge(recording: Recording) -> ExitCode:
    session = recording.session
    try:
        result = finish_run(session.run_dir, recording.scenario)
    except SlagateError as e:
        logger.error("slagate: could not judge %s: %s", session.run_dir, printable(str(e)))
        return ExitCode.COULD_NOT_RUN
    for verdict in result.verdicts:
        shown = printable(f"{verdict.id}: {verdict.message}")
        logger.info("slagate: %-7s %s", verdict.status.value, shown)
    logger.info("slagate: exit code %d, summary in %s", result.exit_code, session.run_dir)
    return result.exit_code


def service_url(environment: Any, name: str, default: str | None = None) -> str:
    """The base URL of service ``name`` for a locustfile (no trailing slash).

    From ``--services`` (or SLAGATE_SERVICES), else the scenario's ``target.services``,
    else ``default``; otherwise a ``ConfigError`` that names the option to set.
    """
    options = PluginOptions.from_namespace(environment.parsed_options)
    recording = recording_of(environment)
    scenario = recording.scenario if isinstance(recording, Recording) else None
    from_scenario = scenario.target.services if scenario is not None else None
    return resolve_service(name, options.services, from_scenario, default)


def acknowledge(environment: Any, kind: str, key: object) -> None:
    """Record that the target acknowledged a write (``acks`` table), e.g. a created order.

    A no-op when slagate is not recording (e.g. ``run_single_user`` without ``init``).
    """
    recording = recording_of(environment)
    if recording is not None:
        recording.recorder.acknowledge(kind, str(key))
