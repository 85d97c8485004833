from __future__ import annotations

import json
from pathlib import Path

import pytest

from slagate.errors import TimelineError
from slagate.timeline import (
    TableWriter,
    compact_table,
    load_timeline,
    new_run_dir,
    read_table,
    update_run_info,
)


def test_parts_from_two_writers_read_back_in_order(tmp_path: Path) -> None:
    load, ctl = TableWriter(tmp_path, "load"), TableWriter(tmp_path, "controller")
    load.append("failures", [(1000, "GET", "/a", 500, "boom", "local")])
    assert load.flush() == 1
    load.append("failures", [(2000, "GET", "/a", 0, "refused", "local")])
    load.flush()
    ctl.append("events", [(1500, "harness", "run_start", "", "")])
    ctl.flush()
    failures = read_table(tmp_path, "failures")
    assert failures["t_ms"].tolist() == [1000, 2000]
    assert failures["status"].tolist() == [500, 0]
    assert sorted(p.name for p in (tmp_path / "failures").iterdir()) == [
        "load-000001.parquet",
        "load-000002.parquet",
    ]
    assert read_table(tmp_path, "events")["kind"].tolist() == ["run_start"]


def test_absent_table_is_empty_with_schema(tmp_path: Path) -> None:
    frame = read_table(tmp_path, "requests")
    assert frame.empty
    assert list(frame.columns)[:4] == ["t_s", "method", "name", "requests"]


def test_flush_without_rows_writes_nothing(tmp_path: Path) -> None:
    assert TableWriter(tmp_path, "w").flush() == 0
    assert not (tmp_path / "requests").exists()


def test_compact_keeps_every_row(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "load")
    for i in range(5):
        w.append("acks", [(i, "order", str(i), "local")])
        w.flush()
    compact_table(tmp_path, "acks")
    assert [p.name for p in (tmp_path / "acks").iterdir()] == ["all-000000.parquet"]
    assert read_table(tmp_path, "acks")["key"].tolist() == ["0", "1", "2", "3", "4"]


def test_run_info_merges_and_load_timeline(tmp_path: Path) -> None:
    update_run_info(tmp_path, run_id="r", status="running")
    update_run_info(tmp_path, status="completed")
    assert json.loads((tmp_path / "run.json").read_text()) == {
        "run_id": "r",
        "status": "completed",
    }
    timeline = load_timeline(tmp_path)
    assert timeline.info["status"] == "completed"
    assert timeline.requests.empty


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match=r"run\.json is missing"):
        load_timeline(tmp_path)


def test_new_run_dirs_never_collide(tmp_path: Path) -> None:
    a = new_run_dir(tmp_path, "Smoke Test!", 0.0)
    b = new_run_dir(tmp_path, "Smoke Test!", 0.0)
    assert a.name == "19700101T000000Z-smoke-test"
    assert b.name == "19700101T000000Z-smoke-test-1"
