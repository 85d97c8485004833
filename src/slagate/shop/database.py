"""SQLite connections shared safely by many replica processes.

Every replica of a service opens the same file. WAL mode lets readers run beside the one
writer; ``busy_timeout`` makes a writer wait for another process's lock instead of failing;
writes that read-then-update (reserve, release) run in ``BEGIN IMMEDIATE`` transactions, so
the write lock is taken before the read and two replicas can never both see the same stock.
``synchronous=NORMAL`` keeps every committed transaction across a process crash (what the
fault tests do); only a power loss may drop the last few.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from slagate.errors import ConfigError

BUSY_TIMEOUT_S = 10.0
"""Seconds a statement waits for another connection's lock before failing."""

_INIT_ATTEMPTS = 50
_INIT_RETRY_S = 0.1


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """Open ``path`` in WAL mode and create ``schema`` (idempotent DDL) if missing.

    The connection is in autocommit mode (``isolation_level=None``): transactions are
    explicit (``write_transaction``), never opened behind our back by the sqlite3 module.
    It may be used from any thread, one at a time (``StorePool`` guarantees that).
    """
    try:
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as e:
        raise ConfigError(
            f"cannot open database {path}: {e}; check that its directory exists and is writable"
        ) from e
    try:
        _initialize(connection, path, schema)
    except (sqlite3.Error, ConfigError):
        connection.close()
        raise
    return connection


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in a ``BEGIN IMMEDIATE`` transaction: commit on success, else roll back.

    IMMEDIATE takes the database write lock up front, so a read inside the block is
    already protected from writers in other processes.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


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
