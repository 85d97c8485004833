from __future__ import annotations

from pathlib import Path

import pytest

from slagate.errors import ConfigError
from slagate.shop.sqlite import open_sqlite

SCHEMA = "CREATE TABLE IF NOT EXISTS t (v INTEGER);"


def test_database_is_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    db = open_sqlite(tmp_path / "x.db", SCHEMA)
    try:
        assert db.fetch_one("PRAGMA journal_mode") == ("wal",)
        assert db.fetch_one("PRAGMA busy_timeout") == (10000,)
    finally:
        db.close()


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot open database .*missing"):
        open_sqlite(tmp_path / "missing" / "x.db", SCHEMA)


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = open_sqlite(tmp_path / "x.db", SCHEMA)
    try:
        with pytest.raises(RuntimeError), db.transaction():
            db.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")
        with db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
        assert db.fetch_all("SELECT v FROM t") == [(2,)]
    finally:
        db.close()
