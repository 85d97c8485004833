"""The databases the shop tests run on: a SQLite file, and a real PostgreSQL server.

``postgres_server`` (one per session, shared) makes a throwaway cluster with initdb in a
temporary folder and runs ``postgres`` on a free loopback port, its unix socket in that
folder too. As root it runs as the user ``postgres`` (or ``nobody``): initdb refuses root.
The server dies with the test process even if that is killed (``die_with_parent``), and
is stopped and removed after the session. Tests that need it are skipped, saying why, only
where the PostgreSQL server binaries are not installed (``make install`` installs Debian's
``postgresql`` when run as root). Each test gets a schema of its own (the URL's
``options=-csearch_path=...``), so product ids start at 1 in every test.

``database`` parametrizes a test over both: one test body, two databases.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from slagate.children import die_with_parent, log_tail
from slagate.shop.database import DatabaseUrl
from tests.fakes import free_port

USER = "slagate"
PASSWORD = "test-only:p@ss"  # URL-quoted in the URL: proves a password needs no care
READY_TIMEOUT_S = 30.0


def postgres_binaries() -> Path | None:
    """The folder of Debian's newest ``initdb`` and ``postgres``, or one on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    """A PostgreSQL server of its own, on loopback, for one test session."""

    def __init__(self, root: Path, port: int, popen: subprocess.Popen[bytes]) -> None:
        self.root = root
        self.port = port
        self._popen = popen
        self._schemas = itertools.count(1)

    @classmethod
    def start(cls, binaries: Path) -> PostgresServer:
        root = Path(tempfile.mkdtemp(prefix="slagate-postgres-"))
        owner = _unprivileged_owner()
        (root / "password").write_text(PASSWORD + "\n")
        if owner is not None:
            for path in [root, root / "password"]:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        as_owner = _as_user(owner)
        initdb = [str(binaries / "initdb"), "-D", str(root / "data"), "-U", USER]
        initdb += ["--pwfile", str(root / "password"), "--auth", "scram-sha-256"]
        initdb += ["-E", "UTF8", "--locale", "C", "--no-sync"]
        subprocess.run(initdb, check=True, capture_output=True, timeout=120, **as_owner)
        port = free_port()
        argv = [str(binaries / "postgres"), "-D", str(root / "data")]
        argv += ["-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"]
        argv += ["-c", f"unix_socket_directories={root}", "-c", "max_connections=200"]
        with (root / "server.log").open("ab") as log:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),
                **as_owner,
            )
        server = cls(root, port, popen)
        try:
            server._wait_ready()
        except BaseException:
            server.stop()
            raise
        return server

    def url(self, dbname: str = "postgres", schema: str | None = None) -> str:
        options = f"?options=-csearch_path%3D{schema}" if schema else ""
        password = quote(PASSWORD, safe="")
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{dbname}{options}"

    def new_schema(self) -> DatabaseUrl:
        """A URL whose tables land in a fresh, empty schema."""
        import psycopg

        schema = f"test_{next(self._schemas)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        return DatabaseUrl.parse(self.url(schema=schema))

    def terminate_backends(self) -> int:
        """Close every other client's connection from the server side, as a restart does;
        how many were closed."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            row = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()
        return int(row[0]) if row else 0

    def stop(self) -> None:
        """A fast shutdown (SIGINT), SIGKILL if that hangs; then remove the cluster."""
        if self._popen.poll() is None:
            self._popen.send_signal(signal.SIGINT)
            try:
                self._popen.wait(20)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self._popen.poll() is not None or time.monotonic() > deadline:
                    tail = log_tail(self.root / "server.log")
                    raise RuntimeError(f"postgres did not start:\n{tail}") from None
                time.sleep(0.1)


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """The user the server runs as when the tests run as root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip("running as root and neither user postgres nor nobody exists for the server")


def _as_user(owner: pwd.struct_passwd | None) -> dict[str, object]:
    if owner is None:
        return {}
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, postgres) not found: "
            "apt-get install postgresql, or run `make install` as root"
        )
    server = PostgresServer.start(binaries)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseUrl:
    """A fresh, empty database: a SQLite file, or a schema on the PostgreSQL server."""
    if request.param == "sqlite":
        return DatabaseUrl.sqlite(tmp_path / "shop.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_schema()
