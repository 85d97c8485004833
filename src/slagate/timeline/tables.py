"""The timeline's tables: one name, one row type and one Arrow schema each.

The row types are the contract: column names and order, Python types, units in the names
(``t_s`` an integer epoch second, ``t_ms`` an integer epoch millisecond, ``*_ms``
latencies in milliseconds). The Arrow schema of each table is derived from its row type
(``int`` -> int64, ``float`` -> float64, ``str`` -> string, ``bool`` -> bool; ``X | None``
is a nullable column), so the two cannot drift apart. Writers build rows with these
types; readers get the columns as pandas DataFrames with the same names.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping
from typing import NamedTuple

import pandas as pd
import pyarrow as pa

ERROR_TEXT_MAX = 300
"""Characters of an error text kept in a ``failures`` row (or an event message)."""

PARTS_LIST = "_parts.txt"
"""In each table folder: the names of the parts written to it, one a line
(``slagate.timeline.writing``). The leading ``_`` keeps ``pd.read_parquet(folder)`` working:
pyarrow skips files whose names start with ``_`` or ``.``."""


class Table(enum.StrEnum):
    """The tables of a run folder, one sub-folder each."""

    REQUESTS = "requests"
    LATENCY = "latency"
    FAILURES = "failures"
    EVENTS = "events"
    ACKS = "acks"
    REPLICAS = "replicas"
    PODS = "pods"
    ENDPOINTS = "endpoints"
    INTEGRITY = "integrity"
    METRICS = "metrics"


class RequestRow(NamedTuple):
    """One second of one endpoint from one load process: exact counts, latency summary."""

    t_s: int  # the epoch second the requests *ended* in
    method: str
    name: str
    requests: int
    failures: int
    latency_sum_ms: float
    latency_max_ms: float | None  # None when no request of the second had a response time
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    worker: str


class LatencyRow(NamedTuple):
    """The per-second latency histogram behind the percentiles: ``requests`` requests took
    ``bucket_ms`` (Locust's bucketing: exact below 100 ms, then ~2 significant digits).
    Window percentiles are computed from these, never by averaging per-second ones."""

    t_s: int
    method: str
    name: str
    bucket_ms: int
    requests: int
    worker: str


class FailureRow(NamedTuple):
    """One failed request (rows may be capped per second; counts in ``requests`` stay
    exact). ``status`` is the HTTP status, 0 for a connection error."""

    t_ms: int
    method: str
    name: str
    status: int
    error: str  # at most ERROR_TEXT_MAX characters
    worker: str


class EventRow(NamedTuple):
    """A harness event (``source`` harness, ``kind`` an ``EventKind``) or a Kubernetes
    Event (``source`` kubernetes, ``kind`` its reason, ``name`` "Kind/name")."""

    t_ms: int
    source: str
    kind: str
    name: str
    message: str


class AckRow(NamedTuple):
    """A write the target acknowledged (e.g. a created order), for the read-back."""

    t_ms: int
    kind: str
    key: str
    worker: str


class ReplicaKind(enum.StrEnum):
    """What a ``replicas`` row describes (its ``kind``): the object kinds' own names."""

    HPA = "HorizontalPodAutoscaler"
    DEPLOYMENT = "Deployment"
    REPLICA_SET = "ReplicaSet"


AVERAGE_VALUE = " average value"
"""The suffix of a ``replicas`` row's ``metric_name`` whose HPA metric has an AverageValue
target: ``metric_value`` is then percent of that target value and ``metric_target`` 100
(``"memory average value"``); a bare resource name (``"cpu"``) is a Utilization target,
percent of the pods' requests."""


class ReplicaRow(NamedTuple):
    """An HPA, Deployment or ReplicaSet at a change (``t_ms``: when the watch saw it).
    Counts are null where the kind has no such field (``min_replicas`` of a Deployment)."""

    t_ms: int
    kind: str  # a ReplicaKind
    name: str
    desired: int | None  # HPA status.desiredReplicas; spec.replicas otherwise
    current: int | None  # HPA status.currentReplicas; status.replicas otherwise
    ready: int | None
    available: int | None
    updated: int | None
    min_replicas: int | None
    max_replicas: int | None
    metric_value: float | None  # HPA: its leading metric, percent (see metric_name)
    metric_target: float | None  # HPA: that metric's target, percent
    revision: str | None  # deployment.kubernetes.io/revision
    rollout_complete: bool | None  # Deployment: `kubectl rollout status` says done
    deleted: bool
    metric_name: str | None = None  # HPA: which metric metric_value is (docs/contracts.md)


class PodTransition(enum.StrEnum):
    """What a ``pods`` row records (its ``transition``)."""

    ADDED = "added"
    """First seen: created during the run, or there when the run began."""

    PHASE = "phase"
    """``status.phase`` changed."""

    READY = "ready"
    """The Ready condition became true."""

    UNREADY = "unready"
    """The Ready condition became false."""

    DELETING = "deleting"
    """A deletion began (``deletionTimestamp`` set): the grace period runs."""

    DELETED = "deleted"
    """The pod is gone from the API."""

    RESTARTED = "restarted"
    """A container of the pod restarted (the restart count grew); ``last_exit_code`` and
    ``last_message`` say how the run before ended."""


class PodRow(NamedTuple):
    """A pod transition: added | phase | ready | unready | deleting | deleted | restarted.

    ``readiness_probe`` and ``prestop_s`` are facts of the pod spec repeated on every row:
    whether some container declares a readinessProbe, and the first container's preStop
    sleep in seconds (0.0 without a preStop hook, NaN for an exec or httpGet hook:
    unknown). ``last_exit_code`` and ``last_message`` are the last termination of the pod's
    most recently restarted container (``lastState.terminated``: its exit code, and its
    message, the log's tail with ``terminationMessagePolicy: FallbackToLogsOnError``; at most
    ``ERROR_TEXT_MAX`` characters, the end kept), null before any restart. Runs recorded
    before a column existed read it as null (unknown)."""

    t_ms: int
    name: str
    transition: str  # a PodTransition
    phase: str | None
    ready: bool
    deleting: bool
    pod_ip: str | None
    owner: str | None  # the owning ReplicaSet
    revision: str | None  # pod-template-hash label
    restarts: int
    readiness_probe: bool | None
    prestop_s: float | None
    last_exit_code: int | None = None
    last_message: str | None = None


class EndpointRow(NamedTuple):
    """EndpointSlice counts of one Service at a change, with the pods behind each state
    (comma-separated pod names, sorted)."""

    t_ms: int
    service: str
    ready: int
    serving: int
    terminating: int
    ready_pods: str
    terminating_pods: str


class IntegrityRow(NamedTuple):
    """After the load: was one acknowledged write still readable? ``status`` is the HTTP
    status of the read-back, 0 for a connection error."""

    t_ms: int
    kind: str
    key: str
    status: int
    ok: bool


class MetricRow(NamedTuple):
    """One Prometheus sample fetched for the run window."""

    t_ms: int
    query: str  # the SLA or preset id the series belongs to
    series: str  # the label set, rendered {a="b",...}
    value: float


TimelineRow = (
    RequestRow
    | LatencyRow
    | FailureRow
    | EventRow
    | AckRow
    | ReplicaRow
    | PodRow
    | EndpointRow
    | IntegrityRow
    | MetricRow
)

ROW_TYPES: Mapping[Table, type[TimelineRow]] = {
    Table.REQUESTS: RequestRow,
    Table.LATENCY: LatencyRow,
    Table.FAILURES: FailureRow,
    Table.EVENTS: EventRow,
    Table.ACKS: AckRow,
    Table.REPLICAS: ReplicaRow,
    Table.PODS: PodRow,
    Table.ENDPOINTS: EndpointRow,
    Table.INTEGRITY: IntegrityRow,
    Table.METRICS: MetricRow,
}

EVENT_TABLES = (Table.EVENTS, Table.REPLICAS, Table.PODS, Table.ENDPOINTS, Table.FAILURES)
"""The tables of things that happened at an instant (``t_ms``) during a run."""

_ARROW_TYPES: Mapping[type, pa.DataType] = {
    int: pa.int64(),
    float: pa.float64(),
    str: pa.string(),
    bool: pa.bool_(),
}


def _arrow_type(hint: object) -> pa.DataType:
    """The Arrow type of a row field's annotation (``X`` or ``X | None``)."""
    if isinstance(hint, types.UnionType):
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
    return _ARROW_TYPES[hint]  # type: ignore[index]


def schema_of(row_type: type[TimelineRow]) -> pa.Schema:
    """The Arrow schema of a table, column for column from its row type."""
    hints = typing.get_type_hints(row_type)
    return pa.schema([(name, _arrow_type(hints[name])) for name in row_type._fields])


SCHEMAS: Mapping[Table, pa.Schema] = {table: schema_of(row) for table, row in ROW_TYPES.items()}


def required_columns(row_type: type[TimelineRow]) -> tuple[str, ...]:
    """The columns that are not ``X | None``. A column added to a table later is always
    ``X | None``, so that parts written before it read it as null; a part without one of
    these columns is therefore no part of this table at all."""
    hints = typing.get_type_hints(row_type)
    return tuple(
        name for name in row_type._fields if type(None) not in typing.get_args(hints[name])
    )


REQUIRED_COLUMNS: Mapping[Table, tuple[str, ...]] = {
    table: required_columns(row) for table, row in ROW_TYPES.items()
}


def empty_frame(table: Table) -> pd.DataFrame:
    """An empty DataFrame with the table's columns and dtypes."""
    frame: pd.DataFrame = SCHEMAS[table].empty_table().to_pandas()
    return frame
