"""The shop's data in a SQLite file shared safely by many replica processes of one machine.

Every replica of a service opens the same file. WAL mode lets readers run beside the one
writer; ``busy_timeout`` makes a writer wait for another process's lock instead of failing;
transactions are ``BEGIN IMMEDIATE``, so the write lock is taken before the first read and
two replicas can never both see the same stock. ``synchronous=NORMAL`` keeps every
committed transaction across a process crash (what the fault tests do); only a power loss
may drop the last few.

SQLite needs every writer on one machine with a local filesystem; replicas on several
nodes share a PostgreSQL server instead (``slagate.shop.postgres``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from slagate.errors import ConfigError
from slagate.shop.database import AUTO_ID, Row

BUSY_TIMEOUT_S = 10.0
"""Seconds a statement waits for another connection's lock before failing."""

ID_COLUMN = "INTEGER PRIMARY KEY"
"""What ``AUTO_ID`` becomes: SQLite's row id, assigned 1, 2, ... (64-bit)."""

_INIT_ATTEMPTS = 50
_INIT_RETRY_S = 0.1


class SqliteDatabase:
    """``Database`` on one SQLite connection in autocommit mode (``isolation_level=None``):
    transactions are explicit, never opened behind our back by the sqlite3 module. It may be
    used from any thread, one at a time (``StorePool`` guarantees that)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        self._connection.execute(sql, params)

    def fetch_one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        row: Row | None = self._connection.execute(sql, params).fetchone()
        return row

    def fetch_all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return self._connection.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on an error.

        IMMEDIATE takes the database write lock up front, so a read inside the block is
        already protected from writers in other processes.
        """
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    def close(self) -> None:
        self._connection.close()


def open_sqlite(path: Path, schema: str) -> SqliteDatabase:
    """Open ``path`` in WAL mode and create ``schema`` (idempotent DDL) if missing."""
    try:
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as e:
        raise ConfigError(
            f"cannot open database {path}: {e}; check that its directory exists and is writable"
        ) from e
    try:
        _initialize(connection, path, schema.replace(AUTO_ID, ID_COLUMN))
    except (sqlite3.Error, ConfigError):
        connection.close()
        raise
    return SqliteDatabase(connection)


def _initialize(connection: sqlite3.Connection, path: Path, schema: str) -> None:
    """Switch to WAL and create the tables, retrying while replicas start side by side.

    Switching the journal mode needs an exclusive lock that SQLite does not always wait
    for, so a replica starting next to a busy one may see "database is locked" here.
    """
    for attempt in range(_INIT_ATTEMPTS):
        try:
            _apply_pragmas_and_schema(connection, schema)
            return
        except sqlite3.DatabaseError as e:
            if "locked" not in str(e) or attempt == _INIT_ATTEMPTS - 1:
                raise ConfigError(
                    f"cannot initialise database {path}: {e}; check that it is writable"
                ) from e
            time.sleep(_INIT_RETRY_S)


def _apply_pragmas_and_schema(connection: sqlite3.Connection, schema: str) -> None:
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise ConfigError(f"the database refused WAL mode (journal_mode is {mode!r})")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.executescript(schema)
