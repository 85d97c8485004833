"""Writing a run folder's tables: Parquet part files, flushed incrementally, compacted once.

Each writer (the load generator, the controller, a watcher, a distributed worker) appends
part files named ``<writer>-<seq>.parquet`` to a table folder every few seconds, so a
killed run keeps everything up to its last flush and several writers never touch the same
file. After a run, ``compact_run`` merges each table's parts into one file.

Each table folder lists its parts in ``_parts.txt`` (``PARTS_LIST``), one name a line,
appended once a part is whole (appends of one short line are atomic, so the load child
and the controller may share a table). A reader refuses a folder where a listed part is
missing (``slagate.timeline.reading``): a removed part would otherwise be judged as
seconds without requests. Compaction rewrites the list with the compacted file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from slagate.errors import TimelineError
from slagate.files import ARTIFACT_MODE, atomic_path, disk_full, write_atomically
from slagate.timeline.tables import PARTS_LIST, SCHEMAS, Table

COMPACTED = "all-000000.parquet"
CHECKSUMS = {"write_page_checksum": True}
"""Every data page carries a CRC, which readers verify: a byte flipped on disk or in a copy
is refused by name instead of being judged as a different number."""


@contextlib.contextmanager
def writing_run_folder(run_dir: Path) -> Iterator[None]:
    """An ``OSError`` writing ``run_dir`` becomes a ``TimelineError`` naming the folder and
    what to do; what was written before stays as it was (every file is written whole or
    not at all)."""
    try:
        yield
    except OSError as e:
        why = e.strerror or str(e)
        if disk_full(e):
            advice = (
                "free space on that disk (or pass --reports on another one); the parts "
                f"written before stay readable, and `slagate check {run_dir}` judges them"
            )
        else:
            advice = "check that the folder exists and that you may write to it"
        raise TimelineError(f"cannot write the run folder {run_dir}: {why}; {advice}") from e


class TableWriter:
    """Buffers rows for the tables of one run folder and writes them as Parquet parts.

    Not thread-safe: one writer per thread (or greenlet) and a distinct ``writer`` name
    per concurrent writer. Rows are the table's row type (``slagate.timeline.tables``) or
    plain sequences in its column order (what a distributed worker sends over msgpack).
    """

    def __init__(self, run_dir: Path, writer: str) -> None:
        self.run_dir = Path(run_dir)
        self.writer = writer
        self._buffers: dict[Table, list[Sequence[object]]] = {t: [] for t in Table}
        self._seq = 0

    def append(self, table: Table | str, rows: Iterable[Sequence[object]]) -> None:
        """Buffer ``rows`` for ``table`` until the next ``flush``."""
        self._buffers[Table(table)].extend(rows)

    def flush(self) -> int:
        """Write what was buffered since the last flush; returns how many rows."""
        written = 0
        for table, rows in self._buffers.items():
            if rows:
                self._write_part(table, rows)
                written += len(rows)
                self._buffers[table] = []
        return written

    def _write_part(self, table: Table, rows: list[Sequence[object]]) -> None:
        schema = SCHEMAS[table]
        columns = list(zip(*rows, strict=True))
        arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
        folder = self.run_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"{self.writer}-{self._seq:06d}.parquet"
        with atomic_path(folder / name) as temporary:
            pq.write_table(pa.Table.from_arrays(arrays, schema=schema), temporary, **CHECKSUMS)
        _list_part(folder, name)


def _list_part(folder: Path, name: str) -> None:
    """Append ``name`` to the folder's ``PARTS_LIST`` in one write (mode 0644)."""
    fd = os.open(folder / PARTS_LIST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, ARTIFACT_MODE)
    try:
        os.fchmod(fd, ARTIFACT_MODE)  # whatever the umask, like every file of the folder
        os.write(fd, f"{name}\n".encode())
    finally:
        os.close(fd)


def append_rows(run_dir: Path, writer: str, table: Table, rows: Iterable[Sequence[object]]) -> None:
    """Write ``rows`` as one part file now (for a few rows written once, e.g. an event)."""
    once = TableWriter(run_dir, writer)
    once.append(table, rows)
    once.flush()


def compact_run(run_dir: Path) -> None:
    """Merge every table's part files into one per table, keeping the data intact."""
    for table in Table:
        _compact(Path(run_dir) / table, SCHEMAS[table])


def _compact(folder: Path, schema: pa.Schema) -> None:
    parts = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if len(parts) < 2:
        return
    try:
        merged = pa.concat_tables(
            pq.read_table(p, schema=schema, page_checksum_verification=True) for p in parts
        )
    except (OSError, pa.ArrowException) as e:
        raise TimelineError(f"cannot compact {folder}: {e}") from e
    with atomic_path(folder / COMPACTED) as temporary:
        pq.write_table(merged, temporary, **CHECKSUMS)
    write_atomically(folder / PARTS_LIST, f"{COMPACTED}\n")
    for part in parts:
        if part.name != COMPACTED:
            part.unlink()


def new_run_dir(base: Path, name: str, now_s: float) -> Path:
    """Create ``base/<UTC timestamp>-<name>`` (suffixed if taken) and return it.

    ``name`` comes from a scenario file: only letters, digits, ``-`` and ``_`` of it are
    kept, so a name such as ``../../x`` stays a folder under ``base``.
    """
    stamp = pd.Timestamp(now_s, unit="s", tz="UTC").strftime("%Y%m%dT%H%M%SZ")
    base.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        path = base / f"{stamp}-{slug(name)}{f'-{n}' if n else ''}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise TimelineError(f"could not create a run folder under {base}: too many runs this second")


def slug(name: str) -> str:
    """A folder-safe form of ``name``: lower case, ``-`` for anything else, at most 40."""
    kept = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return kept.strip("-")[:40] or "run"
