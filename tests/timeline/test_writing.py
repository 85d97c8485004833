"""Writing and reading back a run folder's tables: parts, compaction, folder names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from slagate.timeline import (
    SCHEMAS,
    AckRow,
    EventRow,
    FailureRow,
    Table,
    TableWriter,
    compact_run,
    new_run_dir,
    read_table,
)


def test_parts_from_two_writers_read_back_in_order(tmp_path: Path) -> None:
    load, ctl = TableWriter(tmp_path, "load"), TableWriter(tmp_path, "controller")
    load.append(Table.FAILURES, [FailureRow(1000, "GET", "/a", 500, "boom", "local")])
    assert load.flush() == 1
    load.append(Table.FAILURES, [FailureRow(2000, "GET", "/a", 0, "refused", "local")])
    load.flush()
    ctl.append(Table.EVENTS, [EventRow(1500, "harness", "run_start", "", "")])
    ctl.flush()
    failures = read_table(tmp_path, Table.FAILURES)
    assert failures["t_ms"].tolist() == [1000, 2000]
    assert failures["status"].tolist() == [500, 0]
    assert sorted(p.name for p in (tmp_path / "failures").iterdir()) == [
        "_parts.txt",
        "load-000001.parquet",
        "load-000002.parquet",
    ]
    assert (tmp_path / "failures" / "_parts.txt").read_text() == (
        "load-000001.parquet\nload-000002.parquet\n"
    )
    assert read_table(tmp_path, Table.EVENTS)["kind"].tolist() == ["run_start"]


def test_rows_as_plain_lists_are_accepted(tmp_path: Path) -> None:
    """What a distributed worker sends over msgpack: lists in column order."""
    writer = TableWriter(tmp_path, "worker")
    writer.append("acks", [[5, "order", "42", "w1"]])
    writer.flush()
    assert read_table(tmp_path, Table.ACKS).values.tolist() == [[5, "order", "42", "w1"]]


def test_absent_table_is_empty_with_schema(tmp_path: Path) -> None:
    frame = read_table(tmp_path, Table.REQUESTS)
    assert frame.empty
    assert list(frame.columns)[:4] == ["t_s", "method", "name", "requests"]


def test_every_schema_follows_its_row_type() -> None:
    assert SCHEMAS[Table.ACKS] == pa.schema(
        [("t_ms", pa.int64()), ("kind", pa.string()), ("key", pa.string()), ("worker", pa.string())]
    )
    assert SCHEMAS[Table.REPLICAS].field("metric_value").type == pa.float64()
    assert SCHEMAS[Table.PODS].field("ready").type == pa.bool_()
    assert set(SCHEMAS) == set(Table)


def test_flush_without_rows_writes_nothing(tmp_path: Path) -> None:
    assert TableWriter(tmp_path, "w").flush() == 0
    assert not (tmp_path / "requests").exists()


def test_compact_keeps_every_row_and_every_table(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "load")
    for i in range(5):
        w.append(Table.ACKS, [AckRow(i, "order", str(i), "local")])
        w.append(Table.EVENTS, [EventRow(i, "harness", "users", str(i), "")])
        w.flush()
    compact_run(tmp_path)
    for table in ("acks", "events"):
        assert sorted(p.name for p in (tmp_path / table).iterdir()) == [
            "_parts.txt",
            "all-000000.parquet",
        ]
        assert len(pd.read_parquet(tmp_path / table)) == 5  # pandas skips the list
        assert (tmp_path / table / "_parts.txt").read_text() == "all-000000.parquet\n"
    assert read_table(tmp_path, Table.ACKS)["key"].tolist() == ["0", "1", "2", "3", "4"]


def test_parts_are_readable_by_everyone(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "load")
    w.append(Table.ACKS, [AckRow(1, "order", "1", "local")])
    w.flush()
    for written in (tmp_path / "acks").iterdir():  # the part and the parts list
        assert written.stat().st_mode & 0o777 == 0o644, written


def test_new_run_dirs_never_collide(tmp_path: Path) -> None:
    a = new_run_dir(tmp_path, "Smoke Test!", 0.0)
    b = new_run_dir(tmp_path, "Smoke Test!", 0.0)
    assert a.name == "19700101T000000Z-smoke-test"
    assert b.name == "19700101T000000Z-smoke-test-1"


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        pytest.param("../../etc/x", "etc-x", id="parent-dirs"),
        pytest.param("a/b", "a-b", id="slash"),
        pytest.param("..", "run", id="dot-dot"),
        pytest.param(".", "run", id="dot"),
        pytest.param("/etc/passwd", "etc-passwd", id="absolute"),
        pytest.param("C:\\Windows\\..\\x", "c--windows----x", id="backslashes"),
        pytest.param("a\u2215b\uff0e\uff0e\uff0fc", "a-b---c", id="unicode-slashes-dots"),
        pytest.param("x" * 5000, "x" * 40, id="very-long"),
        pytest.param("/// ... \x00\x1b", "run", id="empty-after-sanitizing"),
        pytest.param("\x1b[31mred\x00", "31mred", id="control-characters"),
    ],
)
def test_a_scenario_name_cannot_leave_the_reports_folder(
    tmp_path: Path, name: str, folder: str
) -> None:
    run_dir = new_run_dir(tmp_path / "reports", name, 0.0)
    assert run_dir.parent == tmp_path / "reports"
    assert run_dir.name == f"19700101T000000Z-{folder}"
    assert run_dir.is_dir()
