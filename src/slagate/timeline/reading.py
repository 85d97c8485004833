"""Reading a run folder: ``run.json`` and every table as a pandas DataFrame."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from slagate.errors import TimelineError
from slagate.timeline.events import EventSource
from slagate.timeline.runinfo import RunInfo, RunStatus, read_run_info
from slagate.timeline.tables import (
    EVENT_TABLES,
    PARTS_LIST,
    REQUIRED_COLUMNS,
    SCHEMAS,
    Table,
    empty_frame,
)

AFTER_THE_LOAD = (Table.INTEGRITY, Table.METRICS)
"""Tables written once the load is over (read-back of writes, Prometheus fetch)."""


@dataclass(frozen=True)
class Timeline:
    """A loaded run folder: ``run.json`` and one DataFrame per table (absent: empty)."""

    run_dir: Path
    info: RunInfo
    tables: Mapping[Table, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: Table) -> pd.DataFrame:
        found = self.tables.get(name)
        return empty_frame(name) if found is None else found

    def data_span_ms(self) -> tuple[int, int] | None:
        """From the first recorded instant to just after the last (epoch ms, end exclusive),
        over the ``requests`` seconds (``t_s`` covers ``[t_s * 1000, t_s * 1000 + 1000)``)
        and the timed rows of ``EVENT_TABLES``; ``None`` when nothing was recorded."""
        firsts: list[int] = []
        ends: list[int] = []
        seconds = self.requests["t_s"].dropna()
        if len(seconds):
            firsts.append(int(seconds.min()) * 1000)
            ends.append(int(seconds.max()) * 1000 + 1000)
        for table in EVENT_TABLES:
            t_ms = self.table(table)["t_ms"].dropna()
            if len(t_ms):
                firsts.append(int(t_ms.min()))
                ends.append(int(t_ms.max()) + 1)
        return (min(firsts), max(ends)) if firsts else None

    def so_far(self, now_ms: int) -> Timeline:
        """What a recorder had handed over by ``now_ms`` (epoch ms), for replaying a run
        second by second: per-second rows of completed seconds (``t_s`` with
        ``(t_s + 1) * 1000 <= now_ms``; failure rows with their second), other rows stamped
        before ``now_ms``. The read-back (``integrity``) and Prometheus series come after
        the load and are left out; run.json reads as running until its ``ended_ms``."""
        tables: dict[Table, pd.DataFrame] = {}
        for name, frame in self.tables.items():
            if name in AFTER_THE_LOAD:
                continue
            if "t_s" in frame.columns:
                kept = (frame["t_s"] + 1) * 1000 <= now_ms
            elif name is Table.FAILURES:
                kept = (frame["t_ms"] // 1000 + 1) * 1000 <= now_ms
            else:
                kept = frame["t_ms"] < now_ms
            tables[name] = frame[kept.fillna(False).astype(bool)]
        info = self.info
        if info.ended_ms is None or now_ms < info.ended_ms:
            info = info.model_copy(update={"ended_ms": None, "status": RunStatus.RUNNING})
        return Timeline(self.run_dir, info, tables)

    def harness_events(self) -> pd.DataFrame:
        """The ``events`` rows the harness wrote (not Kubernetes Events), in time order."""
        events = self.events
        harness = events[(events["source"] == EventSource.HARNESS) & events["t_ms"].notna()]
        return harness.sort_values("t_ms", kind="stable")

    @property
    def requests(self) -> pd.DataFrame:
        return self.table(Table.REQUESTS)

    @property
    def latency(self) -> pd.DataFrame:
        return self.table(Table.LATENCY)

    @property
    def failures(self) -> pd.DataFrame:
        return self.table(Table.FAILURES)

    @property
    def events(self) -> pd.DataFrame:
        return self.table(Table.EVENTS)

    @property
    def acks(self) -> pd.DataFrame:
        return self.table(Table.ACKS)

    @property
    def replicas(self) -> pd.DataFrame:
        return self.table(Table.REPLICAS)

    @property
    def pods(self) -> pd.DataFrame:
        return self.table(Table.PODS)

    @property
    def endpoints(self) -> pd.DataFrame:
        return self.table(Table.ENDPOINTS)

    @property
    def integrity(self) -> pd.DataFrame:
        return self.table(Table.INTEGRITY)

    @property
    def metrics(self) -> pd.DataFrame:
        return self.table(Table.METRICS)


def read_table(run_dir: Path, table: Table) -> pd.DataFrame:
    """Concatenate every part file of ``table``; an absent table is an empty frame. A part
    that cannot be read is a ``TimelineError`` naming it (never skipped: a verdict on part
    of the data would be a wrong verdict)."""
    folder = Path(run_dir) / table
    if folder.exists() and not folder.is_dir():
        raise TimelineError(
            f"{folder} is a file, not the folder of table {table!s}; a run folder holds one "
            "folder of Parquet parts per table: restore it or move the file away"
        )
    parts = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    _check_listed_parts(folder, table)
    if not parts:
        return empty_frame(table)
    arrows = [read_part(part, table) for part in parts]
    frame: pd.DataFrame = pa.concat_tables(arrows).to_pandas()
    return frame


_PART_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.parquet")


def _check_listed_parts(folder: Path, table: Table) -> None:
    """Every part the folder's ``PARTS_LIST`` names is there (a folder without the list,
    from an older slagate, is read as it is)."""
    listing = folder / PARTS_LIST
    try:
        text = listing.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return
    except OSError as e:
        raise TimelineError(f"cannot read {listing}: {e.strerror or e}") from e
    for number, name in enumerate(text.splitlines(), 1):
        if not _PART_NAME.fullmatch(name):
            raise TimelineError(
                f"{listing} line {number} is no part name ({name[:60]!r}): the list of the "
                f"parts of table {table!s} is damaged; restore it from a copy"
            )
        if not (folder / name).exists():
            raise TimelineError(
                f"{folder / name} is missing: {listing} lists it as written by the run, and "
                f"judging table {table!s} without it would judge less data than was recorded; "
                f"restore it from a copy, or remove its line from {PARTS_LIST} to judge the rest"
            )


def read_part(part: Path, table: Table) -> pa.Table:
    """One part, checked whole. Its columns are checked by name first: reading with the
    table's schema fills a column the file lacks with nulls, right for a column added
    after the part was written (``X | None``), wrong for any other (a part of another
    table, copied here, would be judged as seconds without requests)."""
    try:
        found = pq.read_schema(part).names
        missing = [n for n in REQUIRED_COLUMNS[table] if n not in found]
        if missing:
            raise TimelineError(
                f"{part} is no part of table {table!s}: it has no column "
                f"{', '.join(missing)}; move it out of the folder (and its line out of "
                f"{PARTS_LIST}) to judge the rest"
            )
        arrow: pa.Table = pq.read_table(
            part, schema=SCHEMAS[table], page_checksum_verification=True
        )
        arrow.validate(full=True)
    except (OSError, ValueError, OverflowError, pa.ArrowException) as e:
        # a flipped byte in the footer can surface as UnicodeDecodeError, not Arrow's own
        raise TimelineError(
            f"cannot read {part}: {e}; this part of table {table!s} is damaged (a killed "
            "run leaves only whole files: was it edited, truncated or copied in half?); "
            f"restore it from a copy, or move it out of the folder (and its line out of "
            f"{PARTS_LIST}) to judge the rest"
        ) from e
    return arrow


def load_timeline(run_dir: Path) -> Timeline:
    """Load ``run.json`` and every table of a run folder."""
    run_dir = Path(run_dir)
    info = read_run_info(run_dir)
    tables = {t: read_table(run_dir, t) for t in Table}
    return Timeline(run_dir=run_dir, info=info, tables=tables)
