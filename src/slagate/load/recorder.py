"""The per-request recorder: exact per-second counts and latency histograms.

Locust fires its ``request`` event once per request; ``Recorder.on_request`` is that
listener. It only bumps counters in dicts (about 2 us a request), so it stays cheap on a
saturated load generator (docs/locust.md, "Recording"). ``collect`` moves
the *completed* seconds out as timeline rows (``requests``, ``latency``, ``failures``)
together with the buffered ``events`` and ``acks``; the caller writes them off the hot
path. A request belongs to the epoch second it *ended* in (start + response time).

Endpoint names are bounded: a locustfile that forgets ``name=`` on a URL with an id in it
(``GET /orders/<uuid>``) makes a new name per request, and with it new rows every second.
After ``max_endpoints`` distinct (method, name) pairs, requests with a further new name
are counted under ``(method, OVERFLOW_NAME)``, the label Locust's own OpenTelemetry
export uses for the same problem; counts stay exact, and the first time it happens a
``names_folded`` event says which names and how to fix the locustfile.

This module imports neither locust nor gevent: the bucketing and percentile functions
are injected (Locust's own in production, see ``slagate.load.plugin``), the clock too.
It is not thread-safe; under gevent every call runs to completion without switching.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from slagate.errors import LoadError
from slagate.scenario import DEFAULT_MAX_ENDPOINTS
from slagate.timeline import (
    ERROR_TEXT_MAX,
    ROW_TYPES,
    AckRow,
    EventKind,
    EventRow,
    EventSource,
    FailureRow,
    LatencyRow,
    RequestRow,
    Table,
    TimelineRow,
)

logger = logging.getLogger(__name__)

Batch = dict[Table, list[TimelineRow]]
Clock = Callable[[], float]  # epoch seconds
EventListener = Callable[[EventRow], None]

PERCENTILES = (0.50, 0.95, 0.99)
FAILURE_ROWS_PER_S = 100
HISTORY_S = 600
OVERFLOW_NAME = "Too many unique request names"
"""Where requests with a name past ``max_endpoints`` are counted (Locust's own label)."""
FOLD_EXAMPLES = 3


@dataclass(frozen=True)
class LatencyMath:
    """How latencies are bucketed and percentiles read from a bucket histogram.

    ``bucket(ms) -> bucket_ms`` and ``percentile(histogram, count, fraction) -> ms`` have
    the signatures of ``locust.stats.bucket_response_time`` and
    ``locust.stats.calculate_response_time_percentile``.
    """

    bucket: Callable[[float], int]
    percentile: Callable[[dict[int, int], int, float], int]


class Totals(NamedTuple):
    requests: int
    failures: int


class _Cell:
    """The counters of one (second, method, name)."""

    __slots__ = ("failures", "histogram", "latency_max", "latency_sum", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.latency_sum = 0.0
        self.latency_max = -math.inf
        self.histogram: dict[int, int] = {}


LOAD_TABLES = (Table.REQUESTS, Table.LATENCY, Table.FAILURES, Table.EVENTS, Table.ACKS)
"""The tables the load side writes; the cluster tables belong to the controller."""


def new_batch() -> Batch:
    return {table: [] for table in LOAD_TABLES}


class Recorder:
    """Counts requests per (second, method, name) and hands out completed seconds as rows.

    ``worker`` names this process in the rows (``local``, or a worker's client id).
    ``failure_rows_per_s`` caps the stored failure rows per second; counts stay exact
    (``failure_rows_dropped`` says how many rows were not kept). ``history_s`` is how many
    collected seconds of totals are kept for ``window_totals`` (the abort rule).
    ``max_endpoints`` bounds the distinct (method, name) pairs recorded (module doc);
    ``requests_folded`` counts the requests counted under ``OVERFLOW_NAME`` instead.
    ``judged_endpoints``: the endpoints SLAs name (``"GET /x"`` or a name alone, matched as
    ``slagate.sla.selecting.endpoint_mask`` matches them): they are never folded and take
    none of the ``max_endpoints`` places, so an explosion of other names never folds a
    name the gate judges.
    """

    def __init__(
        self,
        *,
        worker: str,
        clock: Clock,
        latency: LatencyMath,
        failure_rows_per_s: int = FAILURE_ROWS_PER_S,
        history_s: int = HISTORY_S,
        max_endpoints: int = DEFAULT_MAX_ENDPOINTS,
        judged_endpoints: Iterable[str] = (),
    ) -> None:
        self.worker = worker
        self.requests_total = 0
        self.failures_total = 0
        self.failure_rows_dropped = 0
        self.requests_folded = 0
        self.max_endpoints = max_endpoints
        self._clock = clock
        self._bucket = latency.bucket
        self._percentile = latency.percentile
        self._failure_cap = failure_rows_per_s
        self._history_s = history_s
        self._seconds: dict[int, dict[tuple[str, str], _Cell]] = {}
        self._failures: dict[int, list[FailureRow]] = {}
        self._history: dict[int, Totals] = {}
        self._pending = new_batch()  # events, acks and rows merged from workers
        self._endpoints: dict[tuple[str, str], None] = {}  # insertion-ordered set
        self._unjudged = 0  # how many of them take one of the max_endpoints places
        self._judged_names = set(judged_endpoints)
        self._judged_pairs = {
            (method, name)
            for method, _, name in (e.partition(" ") for e in self._judged_names)
            if name
        }
        self._listeners: list[EventListener] = []
        self.collected_through_s: int | None = None
        """The last second the last ``collect`` moved out (None: all, or none yet)."""

    # --- the hot path -----------------------------------------------------------------

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int = 0,
        response: Any = None,
        context: Any = None,
        exception: Any = None,
        start_time: float | None = None,
        url: str | None = None,
        **_kwargs: Any,
    ) -> None:
        """Locust's ``request`` event listener: O(1), no I/O, about 1 us.

        Deliberately one flat function (no helper calls on the success path): it runs once
        per request on the load generator's only core.
        """
        if start_time is None:
            end_s = self._clock()
        else:
            end_s = start_time + (response_time or 0.0) / 1000.0
        t_s = int(end_s)
        per_second = self._seconds.get(t_s)
        if per_second is None:
            per_second = self._seconds[t_s] = {}
        key = (request_type, name)
        cell = per_second.get(key)
        if cell is None:
            if key not in self._endpoints:
                key = self._admit(request_type, name)
            cell = per_second.get(key)
            if cell is None:
                cell = per_second[key] = _Cell()
        cell.requests += 1
        self.requests_total += 1
        if response_time is not None:
            cell.latency_sum += response_time
            if response_time > cell.latency_max:
                cell.latency_max = response_time
            bucket = self._bucket(response_time)
            cell.histogram[bucket] = cell.histogram.get(bucket, 0) + 1
        if exception:
            cell.failures += 1
            self.failures_total += 1
            self._keep_failure(t_s, end_s, request_type, key[1], response, exception)

    def _admit(self, method: str, name: str) -> tuple[str, str]:
        """The key a new (method, name) is counted under: itself while there is room, and
        always when an SLA judges it."""
        if name in self._judged_names or (method, name) in self._judged_pairs:
            self._endpoints[(method, name)] = None
            return (method, name)
        if self._unjudged < self.max_endpoints:
            self._unjudged += 1
            self._endpoints[(method, name)] = None
            return (method, name)
        if not self.requests_folded:
            self._warn_folding(f"{method} {name}")
        self.requests_folded += 1
        return (method, OVERFLOW_NAME)

    def _warn_folding(self, first: str) -> None:
        recent = [f"{m} {n}" for m, n in reversed(self._endpoints)][: FOLD_EXAMPLES - 1]
        examples = ", ".join([first, *recent])
        message = (
            f"more than {self.max_endpoints} distinct request names (e.g. {examples}); "
            f"requests with a new name are now counted under {OVERFLOW_NAME!r}. A URL with "
            "an id in it makes a new name per request: pass name= in the locustfile, e.g. "
            'self.client.get(f"/orders/{id}", name="/orders/[id]"), or raise '
            "load.max_endpoints"
        )
        logger.warning("slagate: %s", message)
        self.event(EventKind.NAMES_FOLDED, message=message)

    def _keep_failure(
        self, t_s: int, end_s: float, method: str, name: str, response: Any, exception: Any
    ) -> None:
        rows = self._failures.get(t_s)
        if rows is None:
            rows = self._failures[t_s] = []
        if len(rows) >= self._failure_cap:
            self.failure_rows_dropped += 1
            return
        status = getattr(response, "status_code", 0)
        status = status if isinstance(status, int) else 0
        rows.append(
            FailureRow(int(end_s * 1000), method, name, status, error_text(exception), self.worker)
        )

    # --- other records ----------------------------------------------------------------

    def on_event(self, listener: EventListener) -> None:
        """Call ``listener(row)`` for every harness event recorded here (the progress stream)."""
        self._listeners.append(listener)

    def event(self, kind: EventKind, name: str = "", message: str = "") -> EventRow:
        """Buffer a harness event (``events`` table) stamped now, tell the listeners;
        returns its row."""
        row = EventRow(int(self._clock() * 1000), EventSource.HARNESS, kind, name, message)
        self._pending[Table.EVENTS].append(row)
        for listener in self._listeners:
            listener(row)
        return row

    def acknowledge(self, kind: str, key: str) -> None:
        """Buffer an acknowledged write (``acks`` table), e.g. ``("order", "42")``."""
        self._pending[Table.ACKS].append(AckRow(int(self._clock() * 1000), kind, key, self.worker))

    def merge(self, batch: Mapping[str, Sequence[Sequence[Any]]]) -> None:
        """Take rows collected by another recorder (a distributed worker's report).

        Rows may arrive as lists (msgpack); they are checked for their table's width.
        Merged ``requests`` rows count in the totals and the history.
        """
        for name, rows in batch.items():
            table = _load_table(name)
            row_type = ROW_TYPES[table]
            clean = [row_type(*r) for r in rows if len(r) == len(row_type._fields)]
            if len(clean) != len(rows):
                raise LoadError(f"a worker sent malformed {name!r} rows: {list(rows)[:1]!r}")
            self._pending[table].extend(clean)
            if table is Table.REQUESTS:
                self._count_merged(clean)

    def _count_merged(self, rows: Iterable[TimelineRow]) -> None:
        for row in rows:
            assert isinstance(row, RequestRow)
            self.requests_total += row.requests
            self.failures_total += row.failures
            self._remember(row.t_s, row.requests, row.failures)

    # --- collecting -------------------------------------------------------------------

    def collect(self, final: bool = False) -> Batch:
        """Move out every completed second (ended at least 1 s ago; all if ``final``).
        ``collected_through_s`` then says up to which second everything was moved."""
        cutoff = math.inf if final else self._clock() - 1.0
        self.collected_through_s = None if final else math.floor(cutoff) - 1
        batch, self._pending = self._pending, new_batch()
        for t_s in sorted(t for t in self._seconds if t + 1 <= cutoff):
            self._move_second(t_s, self._seconds.pop(t_s), batch)
        for t_s in sorted(t for t in self._failures if t + 1 <= cutoff):
            batch[Table.FAILURES].extend(self._failures.pop(t_s))
        self._forget_before(self._clock() - self._history_s)
        return batch

    def peek(self, t_s: int) -> Batch:
        """The rows second ``t_s`` would have if it were collected now, leaving it in
        place (empty once collected): a provisional look for the live judge. Requests
        ending in it that are still reported later are in the rows ``collect`` gives."""
        batch = new_batch()
        cells = self._seconds.get(t_s)
        if cells is not None:
            self._second_rows(t_s, cells, batch)
        batch[Table.FAILURES].extend(self._failures.get(t_s, ()))
        return batch

    def _move_second(self, t_s: int, cells: dict[tuple[str, str], _Cell], batch: Batch) -> None:
        requests = sum(c.requests for c in cells.values())
        failures = sum(c.failures for c in cells.values())
        self._second_rows(t_s, cells, batch)
        self._remember(t_s, requests, failures)

    def _second_rows(self, t_s: int, cells: dict[tuple[str, str], _Cell], batch: Batch) -> None:
        for (method, name), cell in sorted(cells.items()):
            batch[Table.REQUESTS].append(self._requests_row(t_s, method, name, cell))
            batch[Table.LATENCY].extend(
                LatencyRow(t_s, method, name, bucket, count, self.worker)
                for bucket, count in sorted(cell.histogram.items())
            )

    def _requests_row(self, t_s: int, method: str, name: str, cell: _Cell) -> RequestRow:
        timed = sum(cell.histogram.values())
        p50, p95, p99 = (
            float(self._percentile(cell.histogram, timed, p)) if timed else None
            for p in PERCENTILES
        )
        latency_max = cell.latency_max if timed else None
        return RequestRow(
            t_s, method, name, cell.requests, cell.failures, cell.latency_sum,
            latency_max, p50, p95, p99, self.worker,
        )  # fmt: skip

    # --- totals -----------------------------------------------------------------------

    @property
    def totals(self) -> Totals:
        """Every request and failure recorded so far (collected or not)."""
        return Totals(self.requests_total, self.failures_total)

    def _remember(self, t_s: int, requests: int, failures: int) -> None:
        old = self._history.get(t_s, Totals(0, 0))
        self._history[t_s] = Totals(old.requests + requests, old.failures + failures)

    def _forget_before(self, t_s: float) -> None:
        for old in [t for t in self._history if t < t_s]:
            del self._history[old]

    def second_totals(self, t_s: int) -> Totals:
        """Requests and failures that ended in second ``t_s`` (collected or not)."""
        live = self._seconds.get(t_s, {}).values()
        kept = self._history.get(t_s, Totals(0, 0))
        return Totals(
            kept.requests + sum(c.requests for c in live),
            kept.failures + sum(c.failures for c in live),
        )

    def window_totals(self, first_s: int, last_s: int) -> Totals:
        """Requests and failures that ended in seconds ``first_s`` .. ``last_s`` inclusive."""
        seconds = [self.second_totals(t) for t in range(first_s, last_s + 1)]
        return Totals(sum(s.requests for s in seconds), sum(s.failures for s in seconds))


def _load_table(name: str) -> Table:
    """The load table a worker named; a ``LoadError`` for anything else."""
    for table in LOAD_TABLES:
        if table == name:
            return table
    raise LoadError(f"a worker sent rows for an unknown table {name!r}")


def error_text(exception: Any) -> str:
    """``Type: message`` of a failure, truncated for the ``failures`` table."""
    if isinstance(exception, BaseException):
        text = f"{type(exception).__name__}: {exception}"
    else:
        text = str(exception)
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 3] + "..."
