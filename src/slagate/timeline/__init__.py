"""The timeline: the one contract between recorders, SLA evaluators and reports.

A run folder (``reports/<run-id>/``) holds ``run.json`` (``runinfo``), one sub-folder of
Parquet part files per table (``tables``: names, row types, schemas; ``writing``), and
once judged ``summary.json`` and ``report.html`` (``slagate.report``). Readers load it
whole with ``load_timeline`` (``reading``). The ``events`` table's vocabulary is in
``events``. docs/contracts.md describes the folder for users.

Times are epoch based: ``t_s`` an integer epoch second (the second a request *ended* in,
for per-second tables), ``t_ms`` an integer epoch millisecond. Latencies are milliseconds.
"""

from slagate.timeline.events import EventKind, EventSource, StopReason
from slagate.timeline.reading import Timeline, load_timeline, read_part, read_table
from slagate.timeline.runinfo import (
    RUN_INFO,
    ClusterInfo,
    PrometheusInfo,
    RunInfo,
    RunStatus,
    SandboxProfile,
    WindowBounds,
    read_run_info,
    same_conditions,
    versions,
    write_run_info,
)
from slagate.timeline.tables import (
    AVERAGE_VALUE,
    ERROR_TEXT_MAX,
    EVENT_TABLES,
    ROW_TYPES,
    SCHEMAS,
    AckRow,
    EndpointRow,
    EventRow,
    FailureRow,
    IntegrityRow,
    LatencyRow,
    MetricRow,
    PodRow,
    PodTransition,
    ReplicaKind,
    ReplicaRow,
    RequestRow,
    Table,
    TimelineRow,
    empty_frame,
)
from slagate.timeline.writing import (
    TableWriter,
    append_rows,
    compact_run,
    new_run_dir,
    writing_run_folder,
)

__all__ = [
    "AVERAGE_VALUE",
    "ERROR_TEXT_MAX",
    "EVENT_TABLES",
    "ROW_TYPES",
    "RUN_INFO",
    "SCHEMAS",
    "AckRow",
    "ClusterInfo",
    "EndpointRow",
    "EventKind",
    "EventRow",
    "EventSource",
    "FailureRow",
    "IntegrityRow",
    "LatencyRow",
    "MetricRow",
    "PodRow",
    "PodTransition",
    "PrometheusInfo",
    "ReplicaKind",
    "ReplicaRow",
    "RequestRow",
    "RunInfo",
    "RunStatus",
    "SandboxProfile",
    "StopReason",
    "Table",
    "TableWriter",
    "Timeline",
    "TimelineRow",
    "WindowBounds",
    "append_rows",
    "compact_run",
    "empty_frame",
    "load_timeline",
    "new_run_dir",
    "read_part",
    "read_run_info",
    "read_table",
    "same_conditions",
    "versions",
    "write_run_info",
    "writing_run_folder",
]
