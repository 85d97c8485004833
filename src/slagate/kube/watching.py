"""Recording what the cluster does: one list-then-watch thread per kind, one timeline.

``ClusterRecorder(api_client, namespace, run_dir, clock).start()`` lists HPAs,
Deployments, ReplicaSets, Pods, EndpointSlices and Events in the namespace (the state the
run starts from, recorded before ``start`` returns), then watches each kind in its own
thread from its list's resourceVersion; ``stop()`` closes the streams, joins the threads
and writes what is left. Rows carry the receipt time (``clock``, epoch seconds, as ms).

Each watch asks the server to end it after ``watch_timeout_s`` and resumes from the last
resourceVersion seen (event or BOOKMARK), as client-go's reflector does; a stream cut or
dropped early resumes the same way, which loses nothing while the server still holds
that history. Only a 410 (history gone) costs a re-list, diffed against the last known
state by the kind's tracker (``slagate.kube.tracking``). So a quiet run makes exactly one
list and one watch request per kind.

A watch that fails (the API server cut, down or refusing) opens a gap, closed by the next
watch the server accepts: a ``watch_gap`` harness event (``slagate.timeline.EventKind``)
at the gap's start says for how long, why and how it resumed, because transitions in the
gap carry the time they were received after it. A gap still open at ``stop`` is recorded
as not resumed. A slow API server cuts nothing: the ``ApiProbe`` (``slagate.kube.probing``)
measures its answers and records ``api_slow`` spans.

Threads: six watchers (``kube-watch-<kind>``), the probe (``kube-probe``) and one flusher
(``kube-flush``). Each kind
writes through its own ``TableWriter`` (``kube-pods``, ...) behind a lock shared with the
flusher, which writes every ``flush_interval_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client

from slagate.errors import KubernetesError, ResourceExpired
from slagate.kube.bodies import WatchEventType
from slagate.kube.connecting import server_of
from slagate.kube.probing import ApiProbe
from slagate.kube.resources import (
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    EVENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    PODS,
    REPLICASETS,
    Resource,
)
from slagate.kube.states import deployment_values, hpa_values, replicaset_values
from slagate.kube.streaming import Query, StopSignal, list_objects, open_watch
from slagate.kube.tracking import (
    EndpointTracker,
    EventTracker,
    PodTracker,
    ReplicaTracker,
    Tracker,
)
from slagate.timeline import (
    EventKind,
    EventRow,
    EventSource,
    Table,
    TableWriter,
    TimelineRow,
)

logger = logging.getLogger(__name__)
Clock = Callable[[], float]  # epoch seconds


@dataclass(frozen=True)
class RecorderSettings:
    """``watch_timeout_s``: server-side ``timeoutSeconds`` of each watch, then it resumes
    from the last resourceVersion (upstream clients use 5-10 minutes; 60 s keeps dead
    connections short-lived). ``flush_interval_s``: seconds between Parquet writes.
    ``request_timeout_s``: timeout of each list. ``retry_initial_s``/``retry_max_s``:
    back-off between failed attempts to list or watch. ``stop_timeout_s``: how long
    ``stop`` waits for each thread. ``probe_interval_s``: seconds between two ``GET
    /version`` of the ``ApiProbe``; ``slow_answer_s``: an answer this slow or slower is
    an ``api_slow`` span (the sandbox answers in milliseconds, a real API server in tens
    of them; a second is far from both, and a watch event that late misplaces a
    transition by a second)."""

    watch_timeout_s: float = 60.0
    flush_interval_s: float = 2.0
    request_timeout_s: float = 30.0
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0
    stop_timeout_s: float = 5.0
    probe_interval_s: float = 1.0
    slow_answer_s: float = 1.0


@dataclass
class Gap:
    """A stretch without a watch of one kind: since when, the first error, and whether a
    re-list happened in it."""

    start_ms: int
    error: str
    relisted: bool = False

    def event(self, end_ms: int, resource: str, resumed: str) -> EventRow:
        lasted = f"no watch for {(end_ms - self.start_ms) / 1000:.1f} s"
        message = f"{lasted} ({self.error}); {resumed}"
        return EventRow(self.start_ms, EventSource.HARNESS, EventKind.WATCH_GAP, resource, message)


@dataclass(frozen=True)
class WatchedKind:
    """A resource, the writer name its rows go out under, and its tracker."""

    resource: Resource
    writer: str
    tracker: Callable[[], Tracker]


WATCHED_KINDS: tuple[WatchedKind, ...] = (
    WatchedKind(HORIZONTAL_POD_AUTOSCALERS, "kube-hpas", lambda: ReplicaTracker(hpa_values)),
    WatchedKind(DEPLOYMENTS, "kube-deployments", lambda: ReplicaTracker(deployment_values)),
    WatchedKind(REPLICASETS, "kube-replicasets", lambda: ReplicaTracker(replicaset_values)),
    WatchedKind(PODS, "kube-pods", PodTracker),
    WatchedKind(ENDPOINT_SLICES, "kube-endpointslices", EndpointTracker),
    WatchedKind(EVENTS, "kube-events", EventTracker),
)


class RowSink:
    """A ``TableWriter`` behind a lock: one thread appends, another flushes."""

    def __init__(self, run_dir: Path, writer: str) -> None:
        self._writer = TableWriter(run_dir, writer)
        self._lock = threading.Lock()

    def append(self, table: Table, rows: Sequence[TimelineRow]) -> None:
        if rows:
            with self._lock:
                self._writer.append(table, rows)

    def flush(self) -> int:
        with self._lock:
            return self._writer.flush()


class KindWatcher:
    """Lists then watches one kind, feeding its tracker; the thread is ``start``-ed after
    ``list_initial``. ``relists`` counts re-lists after a 410."""

    def __init__(
        self,
        kind: WatchedKind,
        api_client: client.ApiClient,
        namespace: str,
        sink: RowSink,
        clock: Clock,
        stop: StopSignal,
        settings: RecorderSettings,
    ) -> None:
        self.kind = kind
        self.relists = 0
        self._call = kind.resource.list_call(api_client)
        self._server = server_of(api_client)
        self._query = Query(namespace)
        self._tracker = kind.tracker()
        self._sink, self._clock, self._stop, self._settings = sink, clock, stop, settings
        self._version = ""
        self._gap: Gap | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"kube-watch-{kind.resource.plural}", daemon=True
        )

    def list_initial(self) -> None:
        """List and record the state the run starts from; ``KubernetesError`` if refused."""
        self._list(initial=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> bool:
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _list(self, initial: bool) -> None:
        listing = list_objects(
            self._call,
            self._query,
            plural=self.kind.resource.plural,
            server=self._server,
            timeout_s=self._settings.request_timeout_s,
        )
        rows = self._tracker.resync(listing.items, self._now_ms(), initial)
        self._sink.append(self._tracker.table, rows)
        self._version = listing.resource_version

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._watch()
                failures = 0
            except ResourceExpired as e:
                self._gap_opens(e)
                failures = self._relist(failures)
            except KubernetesError as e:
                self._gap_opens(e)
                failures += 1
                self._back_off(failures, e)
            except Exception as e:  # a bug on some object: say so loudly, keep the thread
                logger.exception("recording %s failed", self.kind.resource)
                failures = max(failures + 1, 2)
                self._back_off(failures, KubernetesError(repr(e)))
        self._gap_closes("not resumed before the recording stopped")

    def _gap_opens(self, error: KubernetesError) -> None:
        if self._gap is None and not self._stop.is_set():
            self._gap = Gap(self._now_ms(), str(error))

    def _gap_closes(self, resumed: str) -> None:
        gap, self._gap = self._gap, None
        if gap is not None:
            how = "listed again, then " + resumed if gap.relisted else resumed
            event = gap.event(self._now_ms(), self.kind.resource.plural, how)
            self._sink.append(Table.EVENTS, [event])

    def _watch(self) -> None:
        stream = open_watch(
            self._call,
            self._query,
            self._version,
            plural=self.kind.resource.plural,
            server=self._server,
            timeout_s=self._settings.watch_timeout_s,
        )
        self._gap_closes(f"resumed from resourceVersion {self._version}")
        with self._stop.watching(stream):
            for event in stream.events():
                if event.type != WatchEventType.BOOKMARK:
                    rows = self._tracker.apply(event.type, event.object, self._now_ms())
                    self._sink.append(self._tracker.table, rows)
                self._version = event.resource_version or self._version

    def _relist(self, failures: int) -> int:
        logger.info("watch of %s expired: listing again", self.kind.resource)
        try:
            self._list(initial=False)
        except KubernetesError as e:
            self._back_off(failures + 1, e)
            return failures + 1
        self.relists += 1
        if self._gap is not None:
            self._gap.relisted = True
        return 0

    def _back_off(self, failures: int, error: KubernetesError) -> None:
        """Retry a first failure (typically a dropped stream) at once, then back off."""
        if failures == 1 or self._stop.is_set():
            logger.info("watching %s: %s; retrying", self.kind.resource, error)
            return
        settings = self._settings
        delay = min(settings.retry_max_s, settings.retry_initial_s * 2 ** (failures - 2))
        logger.warning("watching %s failed, retry in %.1f s: %s", self.kind.resource, delay, error)
        self._stop.wait(delay)


class ClusterRecorder:
    """Records the namespace's HPAs, Deployments, ReplicaSets, Pods, EndpointSlices and
    Events into ``run_dir`` (tables ``replicas``, ``pods``, ``endpoints``, ``events``)."""

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        run_dir: Path,
        clock: Clock = time.time,
        *,
        settings: RecorderSettings | None = None,
        kinds: Sequence[WatchedKind] = WATCHED_KINDS,
    ) -> None:
        self.namespace = namespace
        self.settings = settings or RecorderSettings()
        self._stop = StopSignal()
        self._sinks = [RowSink(run_dir, kind.writer) for kind in kinds]
        self.watchers = [
            KindWatcher(kind, api_client, namespace, sink, clock, self._stop, self.settings)
            for kind, sink in zip(kinds, self._sinks, strict=True)
        ]
        probe_sink = RowSink(run_dir, "kube-probe")
        self._sinks.append(probe_sink)
        self._probe = ApiProbe(api_client, probe_sink, clock, self._stop, self.settings)
        self._flusher = threading.Thread(target=self._flush_loop, name="kube-flush", daemon=True)
        self._started = False

    def start(self) -> ClusterRecorder:
        """List every kind (``KubernetesError`` if one is refused), then start watching."""
        for watcher in self.watchers:
            watcher.list_initial()
        self.flush()
        for watcher in self.watchers:
            watcher.start()
        self._probe.start()
        self._flusher.start()
        self._started = True
        return self

    def stop(self) -> int:
        """Close every watch, join the threads, write what is left; rows written."""
        self._stop.set()
        for thread_done in [w.join(self.settings.stop_timeout_s) for w in self.watchers]:
            if not thread_done:
                logger.warning("a Kubernetes watcher did not stop in time")
        if not self._probe.join(self.settings.stop_timeout_s):
            logger.warning("the API server probe did not stop in time")
        if self._started:
            self._flusher.join(self.settings.stop_timeout_s)
        return self.flush()

    def flush(self) -> int:
        return sum(sink.flush() for sink in self._sinks)

    @property
    def relists(self) -> dict[str, int]:
        """Re-lists per resource plural after a 410, for diagnostics."""
        return {w.kind.resource.plural: w.relists for w in self.watchers}

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.settings.flush_interval_s):
            try:
                self.flush()
            except Exception as e:  # keep recording; the final flush raises
                logger.error("slagate: writing the Kubernetes timeline failed (will retry): %s", e)

    def __enter__(self) -> ClusterRecorder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
