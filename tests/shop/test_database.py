from __future__ import annotations

from pathlib import Path

import pytest

from slagate.errors import ConfigError
from slagate.shop.database import open_database, write_transaction

SCHEMA = "CREATE TABLE IF NOT EXISTS t (v INTEGER);"


def test_database_is_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db", SCHEMA)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    finally:
        db.close()


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot open database .*missing"):
        open_database(tmp_path / "missing" / "x.db", SCHEMA)


def test_write_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db", SCHEMA)
    try:
        with pytest.raises(RuntimeError), write_transaction(db):
            db.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")
        with write_transaction(db):
            db.execute("INSERT INTO t VALUES (2)")
        assert db.execute("SELECT v FROM t").fetchall() == [(2,)]
    finally:
        db.close()
