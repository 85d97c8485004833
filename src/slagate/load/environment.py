"""slagate's recording attached to one Locust ``Environment``: the Locust adapter.

``attach`` runs once per process (from the plugin's ``init`` listener, or from the load
child before it fires ``init``) and stores what it built on the environment:

- local runner / master: a ``Recording``: the session (run folder, run.json, events),
  the recorder on the ``request`` event, the periodic flusher and, with a scenario, the
  scenario's load shape and target. Workers' rows arrive through ``worker_report``.
- worker: a ``WorkerRecording``: a recorder whose completed seconds ride along with every
  ``report_to_master`` (plain lists: msgpack-safe); after a stop it sends everything.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import locust.stats
from locust.runners import STATE_STOPPED, WorkerRunner

from slagate.errors import ConfigError
from slagate.load.flushing import Flusher
from slagate.load.importing import pick_user_classes
from slagate.load.options import PluginOptions
from slagate.load.plans import LoadPlan
from slagate.load.recorder import Batch, Clock, LatencyMath, Recorder
from slagate.load.session import RunSpec, Session
from slagate.load.shaping import ScenarioShape
from slagate.load.workforce import WorkerRoster
from slagate.scenario import Scenario, format_services, load_scenario
from slagate.timeline import EventKind, StopReason, new_run_dir

logger = logging.getLogger(__name__)

ATTRIBUTE = "slagate"  # where the environment keeps its Recording / WorkerRecording
REPORT_KEY = "slagate"  # key of our rows in a worker's report to the master
FINAL_KEY = "slagate_final"  # True in a worker's reports once its users stopped: all rows sent
REPORTS_DIR = Path("reports")


def locust_latency() -> LatencyMath:
    """Locust's own bucketing and percentiles (read now: a locustfile may replace them)."""
    return LatencyMath(
        bucket=locust.stats.bucket_response_time,
        percentile=locust.stats.calculate_response_time_percentile,
    )


DISK_FULL_RULE = "disk_full"  # the ``abort`` event's name when the run folder's disk fills


class WorkerRecording:
    """A distributed worker's recorder; its rows travel to the master with each report."""

    def __init__(self, environment: Any, recorder: Recorder) -> None:
        self.environment = environment
        self.recorder = recorder
        environment.events.request.add_listener(recorder.on_request)
        environment.events.report_to_master.add_listener(self.on_report_to_master)

    def on_report_to_master(self, client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        final = getattr(self.environment.runner, "state", None) == STATE_STOPPED
        data[REPORT_KEY] = take_rows(self.recorder.collect(final=final))
        data[FINAL_KEY] = final


class Recording:
    """The local runner's or master's recording of a run."""

    def __init__(self, environment: Any, session: Session, flusher: Flusher) -> None:
        self.environment = environment
        self.session = session
        self.flusher = flusher
        flusher.on_disk_full = self.stop_for_disk_full
        self.shape: ScenarioShape | None = None
        self.roster = WorkerRoster()  # on a master: who reported, who sent its last rows
        self._announced: int | None = None
        self._running = False  # Locust can fire test_stop twice for one stop
        events = environment.events
        events.request.add_listener(session.recorder.on_request)
        events.test_start.add_listener(self.on_test_start)
        events.spawning_complete.add_listener(self.on_spawning_complete)
        events.test_stop.add_listener(self.on_test_stop)
        events.worker_report.add_listener(self.on_worker_report)

    @property
    def recorder(self) -> Recorder:
        return self.session.recorder

    @property
    def managed(self) -> bool:
        """``slagate run`` drives this run (the load child): it ends and judges it."""
        return self.session.spec.managed

    @property
    def scenario(self) -> Scenario | None:
        return self.session.spec.scenario

    def use_scenario_shape(self) -> ScenarioShape:
        """Drive the load with the scenario's stages (replaces a locustfile's shape)."""
        assert self.scenario is not None
        if self.environment.shape_class is not None:
            replaced = type(self.environment.shape_class).__name__
            logger.warning("slagate: the scenario's load replaces the shape %s", replaced)
        shape = ScenarioShape(LoadPlan.from_scenario(self.scenario), on_target=self.announce)
        shape.runner = self.environment.runner
        self.environment.shape_class = shape
        self.shape = shape
        return shape

    def announce(self, users: int) -> None:
        """A ``users`` event: the target user count changed."""
        if users != self._announced:
            self._announced = users
            self.session.event(EventKind.USERS, str(users))

    def on_test_start(self, **_kw: Any) -> None:
        self._running = True
        self.session.event(EventKind.LOAD_START)
        self._announce_without_shape()

    def on_spawning_complete(self, user_count: int, **_kw: Any) -> None:
        self._announce_without_shape()
        self.session.event(EventKind.SPAWN_COMPLETE, str(user_count))

    def _announce_without_shape(self) -> None:
        target = getattr(self.environment.runner, "target_user_count", None)
        if self.environment.shape_class is None and isinstance(target, int) and target > 0:
            self.announce(target)

    def on_test_stop(self, **_kw: Any) -> None:
        if self._running:
            self._running = False
            self.session.event(EventKind.LOAD_STOP, message=self.session.stop_reason)

    def stop_load(self, reason: StopReason, rule: str, explanation: str) -> bool:
        """Stop the load early: record why (an ``abort`` event for a safety stop) and
        halt the scenario's shape, which stops Locust at its next tick. Returns False when
        the load was already stopping (the first reason wins)."""
        if not self.session.stop(reason, explanation):
            return False
        if reason is StopReason.ABORT:
            self.session.event(EventKind.ABORT, rule, explanation)
        if self.shape is not None:
            self.shape.halt()
        return True

    def stop_for_disk_full(self, why: str) -> None:
        """The run folder's disk filled: stop the load, since its data cannot be kept (a
        plain ``locust -f`` without a scenario has no shape to stop: it is only recorded)."""
        self.stop_load(StopReason.ABORT, DISK_FULL_RULE, why)

    def on_worker_report(self, client_id: str, data: Mapping[str, Any], **_kw: Any) -> None:
        rows = data.get(REPORT_KEY)
        if rows:
            self.session.recorder.merge(rows)
        self.roster.report(client_id, final=bool(data.get(FINAL_KEY)))

    def finish(self) -> None:
        """Locust's own totals as an event, the final flush, then run.json
        ``completed``/``aborted`` (idempotent)."""
        if self.session.closed:
            return
        self._record_locust_totals()
        self.flusher.close()
        self.session.close()
        logger.info("slagate: run folder %s", self.session.run_dir)

    def _record_locust_totals(self) -> None:
        """A ``locust_totals`` event: what Locust's own statistics counted, aggregated over
        workers, beside the timeline's counts (both come from the same ``request`` event)."""
        total = getattr(getattr(self.environment, "stats", None), "total", None)
        if total is not None:
            counts = f"requests={total.num_requests} failures={total.num_failures}"
            self.session.event(EventKind.LOCUST_TOTALS, message=counts)


def recording_of(environment: Any) -> Recording | WorkerRecording | None:
    found = getattr(environment, ATTRIBUTE, None)
    return found if isinstance(found, Recording | WorkerRecording) else None


def attach(
    environment: Any,
    *,
    managed: bool = False,
    scenario: Scenario | None = None,
    clock: Clock = time.time,
) -> Recording | WorkerRecording:
    """Record this environment's run (once); a ``ConfigError`` for bad options.

    ``managed``: the caller (the load child) ends the run itself, and judging is left to
    ``slagate run``. ``scenario``: an already loaded scenario (else ``--scenario``).
    """
    if (existing := recording_of(environment)) is not None:
        return existing
    freeze_startup_objects()
    runner = environment.runner
    options = PluginOptions.from_namespace(environment.parsed_options)
    if isinstance(runner, WorkerRunner):
        recorder = _recorder(options, str(runner.client_id), clock)
        attached: Recording | WorkerRecording = WorkerRecording(environment, recorder)
    else:
        attached = _attach_run(environment, options, managed, scenario, clock)
    setattr(environment, ATTRIBUTE, attached)
    return attached


def freeze_startup_objects() -> None:
    """Keep everything imported so far (Locust, pandas, pyarrow) out of the collector.

    Those objects live as long as the process, yet every full collection walks them. On
    a 2-core VM (benchmarks/recorder_overhead.py) the plugin without this cost ~4% of the
    requests per CPU second; with it Locust does more requests per CPU second than without
    the plugin (the recorder itself costs ~2%). Locust freezes the same way before
    ``--processes`` forks.
    """
    gc.collect()
    gc.freeze()


def _recorder(
    options: PluginOptions, worker: str, clock: Clock, judged_endpoints: tuple[str, ...] = ()
) -> Recorder:
    return Recorder(
        worker=worker,
        clock=clock,
        latency=locust_latency(),
        failure_rows_per_s=options.failure_rows_per_s,
        max_endpoints=options.max_endpoints,
        judged_endpoints=judged_endpoints,
    )


def _attach_run(
    environment: Any,
    options: PluginOptions,
    managed: bool,
    scenario: Scenario | None,
    clock: Clock,
) -> Recording:
    if scenario is None and options.scenario is not None:
        scenario = load_scenario(options.scenario)
        _refuse_cluster_scenario(scenario, options.scenario)
    if scenario is not None:
        _apply_target(environment, scenario)
        options = replace(options, max_endpoints=scenario.load.max_endpoints)
    spec = _run_spec(environment, options, scenario, managed, clock)
    judged = scenario.judged_endpoints() if scenario is not None else ()
    session = Session(spec, _recorder(options, "local", clock, judged), clock)
    session.begin()
    flusher = Flusher(session, options.flush_interval_s)
    recording = Recording(environment, session, flusher)
    if scenario is not None:
        recording.use_scenario_shape()
    flusher.start()
    return recording


def _refuse_cluster_scenario(scenario: Scenario, path: Path) -> None:
    """Plain ``locust -f`` has no cluster side: a Kubernetes scenario would judge no-data.

    Its watchers, actions and read-back run in ``slagate run`` (the controller process)."""
    if scenario.target.kubernetes is not None or scenario.actions:
        raise ConfigError(
            f"{path}: this scenario targets Kubernetes (target.kubernetes / actions), which "
            f"plain locust cannot record or act on; run it with `slagate run {path}` "
            "(add --sandbox for the embedded cluster)"
        )


def _run_spec(
    environment: Any,
    options: PluginOptions,
    scenario: Scenario | None,
    managed: bool,
    clock: Clock,
) -> RunSpec:
    name = scenario.name if scenario else Path(environment.locustfile or "locust").stem
    run_dir = options.run_dir or new_run_dir(REPORTS_DIR, name, clock())
    services = {**(scenario.target.services if scenario else {}), **(options.services or {})}
    return RunSpec(
        run_dir=run_dir,
        host=environment.host,
        services=services,
        scenario=scenario,
        scenario_path=options.scenario,
        managed=managed,
    )


def _apply_target(environment: Any, scenario: Scenario) -> None:
    """The scenario's host (unless --host was given), services, drain, endpoint bound,
    user classes filter.

    The merged services and ``load.max_endpoints`` go back into the parsed options: the
    master forwards them to its workers, where ``service_url`` and the recorder read them.
    """
    options = environment.parsed_options
    if not environment.host and scenario.target.host:
        environment.host = scenario.target.host
        if options is not None:
            options.host = scenario.target.host
    if options is not None:
        given = PluginOptions.from_namespace(options).services or {}
        options.services = format_services({**scenario.target.services, **given})
        options.slagate_max_endpoints = scenario.load.max_endpoints
    if not environment.stop_timeout:
        environment.stop_timeout = scenario.drain  # users finish their task when load stops
    wanted = scenario.load.user_classes
    if wanted:
        by_name = {cls.__name__: cls for cls in environment.user_classes}
        path = Path(environment.locustfile or scenario.load.locustfile)
        scenario_path = PluginOptions.from_namespace(options).scenario
        environment.user_classes = pick_user_classes(by_name, wanted, scenario_path, path)


def take_rows(batch: Batch) -> dict[str, list[list[Any]]]:
    """A batch as msgpack-safe lists (what a worker sends)."""
    return {table: [list(r) for r in rows] for table, rows in batch.items() if rows}
