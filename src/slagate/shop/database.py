"""Where the shop keeps its data: a database URL, and the one seam the stores talk through.

The stores (``products``, ``orders``) hold the shop's logic once, in SQL both databases
speak, over ``Database``. Two implementations:

- ``sqlite.SqliteDatabase``: a file shared by the replicas on one machine (the default,
  and what the sandbox runs);
- ``postgres.PostgresDatabase``: a PostgreSQL server (psycopg 3, ``slagate[postgres]``),
  shared by replicas on any number of nodes.

The SQL the stores write is the subset both speak: ``?`` placeholders (the PostgreSQL side
turns them into psycopg's ``%s``), ``RETURNING``, ``INSERT ... ON CONFLICT DO NOTHING``,
and, in a schema, ``AUTO_ID`` for an integer key the database assigns.

What the stores rely on, whichever the database: a statement outside ``transaction()`` is
committed when it returns (an order is durable before its 201 is sent); inside one, all
commit or none; ``UPDATE ... WHERE stock >= ?`` is atomic (a concurrent writer of the row
waits and then sees the new value); a second ``INSERT`` of a key waits for the first to
commit and then does nothing. SQLite gives more (one writer at a time, ``BEGIN
IMMEDIATE``); PostgreSQL gives exactly this at its default isolation, READ COMMITTED.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from slagate.errors import ConfigError
from slagate.extras import POSTGRES

Row = tuple[Any, ...]

AUTO_ID = "{auto_id}"
"""Written in a schema for a 64-bit integer primary key the database assigns (1, 2, ...);
each implementation puts its own column definition in its place."""

DEFAULT_SQLITE_PATH = Path("shop.db")
"""The SQLite file when neither ``--db`` nor ``--database-url`` is given."""

_REDACTED = "***"


class Database(Protocol):
    """One connection to the shop's database; use it from one thread at a time."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement that returns no rows."""

    def fetch_one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row of a statement's result, None when it has none."""

    def fetch_all(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Every row of a statement's result."""

    def transaction(self) -> AbstractContextManager[None]:
        """A block whose statements commit together on success, or roll back on an error."""

    def close(self) -> None: ...


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"


@dataclass(frozen=True)
class DatabaseUrl:
    """Which database a service uses: a SQLite file or a PostgreSQL server.

    Written as ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (the SQLAlchemy
    convention: the path is what follows the third slash), or a libpq URL
    ``postgresql://user:password@host:5432/dbname?sslmode=require`` (``postgres://`` too).
    ``str()`` and ``repr()`` never show the password.
    """

    backend: Backend
    target: str = field(repr=False)
    """The SQLite file's path, or the whole PostgreSQL URL (with its password)."""

    @classmethod
    def sqlite(cls, path: Path) -> DatabaseUrl:
        return cls(Backend.SQLITE, str(path))

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        """The URL ``text``; ``ConfigError`` naming it (without a password) if not usable."""
        scheme, _, rest = text.partition("://")
        if scheme.lower() in ("postgresql", "postgres"):
            return cls(Backend.POSTGRES, text)
        if scheme.lower() == "sqlite" and rest.startswith("/") and len(rest) > 1:
            return cls.sqlite(Path(rest[1:]))
        raise ConfigError(
            f"database URL {redact(text)!r} is not supported: use postgresql://USER:PASSWORD@"
            "HOST:PORT/DBNAME, or sqlite:///PATH (sqlite:////ABSOLUTE/PATH) for a SQLite file"
        )

    @property
    def path(self) -> Path:
        """The SQLite file (only for ``Backend.SQLITE``)."""
        if self.backend is not Backend.SQLITE:
            raise ValueError(f"{self} is not a SQLite file")
        return Path(self.target)

    def __str__(self) -> str:
        if self.backend is Backend.SQLITE:
            return f"sqlite:///{self.target}"
        return redact(self.target)

    def __repr__(self) -> str:
        return f"DatabaseUrl({str(self)!r})"


def redact(url: str) -> str:
    """``url`` with its password (in the user part or a ``password`` parameter) as ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        user_info, host_info = netloc.rsplit("@", 1)
        if ":" in user_info:
            user_info = f"{user_info.split(':', 1)[0]}:{_REDACTED}"
        netloc = f"{user_info}@{host_info}"
    query = parts.query
    if "password" in query.lower():
        pairs = parse_qsl(query, keep_blank_values=True)
        hidden = [(k, _REDACTED if k.lower() == "password" else v) for k, v in pairs]
        query = urlencode(hidden, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def open_database(url: DatabaseUrl, schema: str) -> Database:
    """Connect to ``url`` and create ``schema`` (idempotent DDL, ``AUTO_ID`` keys) if missing.

    Raises ``ConfigError`` naming the database when it cannot be opened, and
    ``ExtraNotInstalled`` for PostgreSQL without ``slagate[postgres]``.
    """
    if url.backend is Backend.SQLITE:
        from slagate.shop.sqlite import open_sqlite

        return open_sqlite(url.path, schema)
    POSTGRES.require("a PostgreSQL database")
    from slagate.shop.postgres import open_postgres  # psycopg only when asked for

    return open_postgres(url.target, schema, where=str(url))
