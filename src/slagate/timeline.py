"""The timeline: the one contract between recorders, SLA evaluators and reports.

A run folder (``reports/<run-id>/``) holds ``run.json`` and one sub-folder per table. Each
writer (the load generator, the controller, a distributed worker) appends Parquet part
files named ``<writer>-<seq>.parquet`` to a table folder every few seconds, so a killed
run keeps everything up to its last flush and several writers never touch the same file.
Readers concatenate the parts (``load_timeline``).

Times are epoch based: ``t_s`` is an integer epoch second (the second a request *ended*
in, for per-second tables), ``t_ms`` an integer epoch millisecond. Latencies are in
milliseconds. The schemas below are the contract; column order is as listed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from slagate.errors import TimelineError

SCHEMAS: Mapping[str, pa.Schema] = {
    # One row per second per endpoint per writer. Exact counts.
    "requests": pa.schema(
        [
            ("t_s", pa.int64()),
            ("method", pa.string()),
            ("name", pa.string()),
            ("requests", pa.int64()),
            ("failures", pa.int64()),
            ("latency_sum_ms", pa.float64()),
            ("latency_max_ms", pa.float64()),
            ("latency_p50_ms", pa.float64()),
            ("latency_p95_ms", pa.float64()),
            ("latency_p99_ms", pa.float64()),
            ("worker", pa.string()),
        ]
    ),
    # The per-second latency histogram behind the percentiles: requests that took
    # ``bucket_ms`` (Locust's bucketing: exact below 100 ms, then ~2 significant digits).
    # Window percentiles are computed from these, never by averaging per-second ones.
    "latency": pa.schema(
        [
            ("t_s", pa.int64()),
            ("method", pa.string()),
            ("name", pa.string()),
            ("bucket_ms", pa.int64()),
            ("count", pa.int64()),
            ("worker", pa.string()),
        ]
    ),
    # Every failed request (rows may be capped per second; counts in ``requests`` stay exact).
    "failures": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("method", pa.string()),
            ("name", pa.string()),
            ("status", pa.int64()),
            ("error", pa.string()),
            ("worker", pa.string()),
        ]
    ),
    # Harness events (load_start, load_stop, spawn_complete, stage, action_start, action_end,
    # abort, ...) and, later, Kubernetes Events.
    "events": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("source", pa.string()),
            ("kind", pa.string()),
            ("name", pa.string()),
            ("message", pa.string()),
        ]
    ),
    # Writes the target acknowledged (e.g. created orders) for integrity checks after the run.
    "acks": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("kind", pa.string()),
            ("key", pa.string()),
            ("worker", pa.string()),
        ]
    ),
    # --- Kubernetes (written by the controller's watchers; t_ms is the receipt time) ---
    # HPA, Deployment and ReplicaSet state at every change. Nullable ints are null where the
    # kind has no such field (e.g. min_replicas for a Deployment).
    "replicas": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("kind", pa.string()),  # HorizontalPodAutoscaler | Deployment | ReplicaSet
            ("name", pa.string()),
            ("desired", pa.int64()),  # HPA status.desiredReplicas; spec.replicas otherwise
            ("current", pa.int64()),  # HPA status.currentReplicas; status.replicas otherwise
            ("ready", pa.int64()),
            ("available", pa.int64()),
            ("updated", pa.int64()),
            ("min_replicas", pa.int64()),
            ("max_replicas", pa.int64()),
            ("metric_value", pa.float64()),  # HPA current CPU utilization, percent of request
            ("metric_target", pa.float64()),  # HPA target utilization, percent
            ("revision", pa.string()),  # deployment.kubernetes.io/revision
            ("rollout_complete", pa.bool_()),  # Deployment: `kubectl rollout status` says done
            ("deleted", pa.bool_()),
        ]
    ),
    # Every pod transition: added, phase change, ready/unready, deletion start, deleted.
    # The last two columns are facts from the pod spec, repeated on every row of the pod;
    # they are null in runs recorded before they existed (read as unknown).
    "pods": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("name", pa.string()),
            ("transition", pa.string()),  # added | phase | ready | unready | deleting | deleted
            ("phase", pa.string()),
            ("ready", pa.bool_()),
            ("deleting", pa.bool_()),
            ("pod_ip", pa.string()),
            ("owner", pa.string()),  # the owning ReplicaSet
            ("revision", pa.string()),  # pod-template-hash label
            ("restarts", pa.int64()),
            ("readiness_probe", pa.bool_()),  # some container declares a readinessProbe
            # The first container's preStop sleep (lifecycle.preStop.sleep.seconds); 0.0
            # without a preStop hook, NaN for an exec or httpGet hook (unknown).
            ("prestop_s", pa.float64()),
        ]
    ),
    # EndpointSlice counts per Service at every change, with the pods behind each state.
    "endpoints": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("service", pa.string()),
            ("ready", pa.int64()),
            ("serving", pa.int64()),
            ("terminating", pa.int64()),
            ("ready_pods", pa.string()),  # comma-separated pod names, sorted
            ("terminating_pods", pa.string()),
        ]
    ),
    # After the load: was each acknowledged write still readable? (no write lost)
    "integrity": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("kind", pa.string()),
            ("key", pa.string()),
            ("status", pa.int64()),  # HTTP status of the read-back; 0 for a connection error
            ("ok", pa.bool_()),
        ]
    ),
    # Prometheus series fetched for the run window (one row per sample).
    "metrics": pa.schema(
        [
            ("t_ms", pa.int64()),
            ("query", pa.string()),  # the SLA or preset id the series belongs to
            ("series", pa.string()),  # the label set, rendered {a="b",...}
            ("value", pa.float64()),
        ]
    ),
}

TABLES: tuple[str, ...] = tuple(SCHEMAS)
RUN_INFO = "run.json"
ERROR_TEXT_MAX = 300


def empty_frame(table: str) -> pd.DataFrame:
    """An empty DataFrame with the table's columns and dtypes."""
    frame: pd.DataFrame = SCHEMAS[table].empty_table().to_pandas()
    return frame


@dataclass(frozen=True)
class Timeline:
    """A loaded run folder: one DataFrame per table plus ``run.json``."""

    run_dir: Path
    info: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, empty_frame(name))

    @property
    def requests(self) -> pd.DataFrame:
        return self.table("requests")

    @property
    def latency(self) -> pd.DataFrame:
        return self.table("latency")

    @property
    def failures(self) -> pd.DataFrame:
        return self.table("failures")

    @property
    def events(self) -> pd.DataFrame:
        return self.table("events")

    @property
    def acks(self) -> pd.DataFrame:
        return self.table("acks")

    @property
    def replicas(self) -> pd.DataFrame:
        return self.table("replicas")

    @property
    def pods(self) -> pd.DataFrame:
        return self.table("pods")

    @property
    def endpoints(self) -> pd.DataFrame:
        return self.table("endpoints")

    @property
    def integrity(self) -> pd.DataFrame:
        return self.table("integrity")


class TableWriter:
    """Appends rows to the tables of one run folder as Parquet part files.

    Not thread-safe: one writer per process (or greenlet) and a distinct ``writer`` name
    per concurrent writer. ``flush`` writes whatever was buffered since the last flush.
    """

    def __init__(self, run_dir: Path, writer: str) -> None:
        self.run_dir = Path(run_dir)
        self.writer = writer
        self._buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self._seq = 0

    def append(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Buffer rows (tuples in schema column order) for ``table``."""
        self._buffers[table].extend(rows)

    def flush(self) -> int:
        """Write buffered rows; returns how many rows were written."""
        written = 0
        for table, rows in self._buffers.items():
            if not rows:
                continue
            self._write_part(table, rows)
            written += len(rows)
            self._buffers[table] = []
        return written

    def _write_part(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        schema = SCHEMAS[table]
        columns = list(zip(*rows, strict=True))
        arrays = [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)]
        folder = self.run_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        final = folder / f"{self.writer}-{self._seq:06d}.parquet"
        tmp = folder / f".{final.name}.tmp"
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), tmp)
        os.replace(tmp, final)


def new_run_dir(base: Path, name: str, now_s: float) -> Path:
    """Create ``base/<UTC timestamp>-<name>`` (suffixed if taken) and return it."""
    stamp = pd.Timestamp(now_s, unit="s", tz="UTC").strftime("%Y%m%dT%H%M%SZ")
    base.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        suffix = f"-{n}" if n else ""
        path = base / f"{stamp}-{_slug(name)}{suffix}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise TimelineError(f"could not create a run folder under {base}: too many runs this second")


def _slug(name: str) -> str:
    kept = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return kept.strip("-")[:40] or "run"


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON atomically (temp file + rename) so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True, default=str)
        f.write("\n")
    os.replace(tmp, path)


def read_run_info(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / RUN_INFO
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError as e:
        raise TimelineError(
            f"{run_dir} is not a run folder: {RUN_INFO} is missing; "
            "pass the folder `slagate run` printed (reports/<run-id>)"
        ) from e
    except (OSError, ValueError) as e:
        raise TimelineError(f"cannot read {path}: {e}") from e


def update_run_info(run_dir: Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into run.json (created if missing) and return the result."""
    path = Path(run_dir) / RUN_INFO
    info = read_run_info(run_dir) if path.exists() else {}
    info.update(changes)
    write_json(path, info)
    return info


def read_table(run_dir: Path, table: str) -> pd.DataFrame:
    """Concatenate every part file of ``table``; an absent table is an empty frame."""
    folder = Path(run_dir) / table
    parts = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not parts:
        return empty_frame(table)
    try:
        arrow = pa.concat_tables(pq.read_table(p, schema=SCHEMAS[table]) for p in parts)
    except (OSError, pa.ArrowException) as e:
        raise TimelineError(f"cannot read table {table!r} in {run_dir}: {e}") from e
    frame: pd.DataFrame = arrow.to_pandas()
    return frame


def load_timeline(run_dir: Path) -> Timeline:
    """Load ``run.json`` and every table of a run folder."""
    run_dir = Path(run_dir)
    info = read_run_info(run_dir)
    tables = {t: read_table(run_dir, t) for t in TABLES}
    return Timeline(run_dir=run_dir, info=info, tables=tables)


def compact_table(run_dir: Path, table: str) -> None:
    """Merge a table's part files into one (after a run ended), keeping the data intact."""
    folder = Path(run_dir) / table
    parts = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if len(parts) < 2:
        return
    merged = pa.concat_tables(pq.read_table(p, schema=SCHEMAS[table]) for p in parts)
    tmp = folder / ".all.parquet.tmp"
    pq.write_table(merged, tmp)
    os.replace(tmp, folder / "all-000000.parquet")
    for p in parts:
        if p.name != "all-000000.parquet":
            p.unlink()
