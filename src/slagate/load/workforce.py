"""Distributed load on Locust's own master/worker protocol: the plan and the roster.

Pure (no Locust, no gevent), so the controller builds the load child's arguments from it
and the roster is unit-tested in a plain process. docs/distributed.md tells the story:

- ``Distribution``: how many worker processes this machine starts (``--workers``), how
  many workers the master waits for before any load (``--expect-workers``, local ones
  included) and for how long, and where the master listens.
- ``WorkerRoster``: which workers took part, which sent their last report after the
  load stopped (the merge is complete only then) and which were lost mid-run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from slagate.errors import ConfigError

LOCUST_MASTER_PORT = 5557
"""Locust's default ``--master-port``."""

ALL_INTERFACES = "*"
LOOPBACK = "127.0.0.1"
DEFAULT_WAIT_S = 60.0
LOCAL_START_S = 60.0
"""How long this machine's own worker processes may take to start and connect; the wait
for the other expected workers begins after."""
MAX_LOCAL_WORKERS = 64
QUIT = "quit: its process ended or was stopped before the load did"
MISSED_HEARTBEATS = "stopped answering: missed Locust's heartbeats (about 3 s)"
NO_FINAL_REPORT = "sent no last report within {wait:g} s after the load stopped"


@dataclass(frozen=True)
class Distribution:
    """Where the load runs when it is not one process.

    - ``local_workers``: worker processes the load starts on this machine (loopback).
    - ``expect_workers``: workers (local ones included) that must be connected before any
      load; 0 means ``local_workers``.
    - ``master``: accept workers from other machines (``slagate worker``); the master
      listens on ``bind_host`` (all interfaces by default) and ``port`` (5557).
    - ``wait_s``: how long to wait for the expected workers before giving up (exit 2).
    """

    local_workers: int = 0
    expect_workers: int = 0
    master: bool = False
    bind_host: str | None = None
    port: int | None = None
    wait_s: float = DEFAULT_WAIT_S

    @property
    def distributed(self) -> bool:
        return self.master or self.local_workers > 0

    @property
    def expected(self) -> int:
        return max(self.expect_workers, self.local_workers)

    @property
    def gathering_s(self) -> float:
        """The longest a load may wait for its workers before it begins."""
        if not self.distributed:
            return 0.0
        return self.wait_s + (LOCAL_START_S if self.local_workers else 0.0)

    @property
    def listen_host(self) -> str:
        """Only loopback unless other machines' workers are awaited."""
        return self.bind_host or (ALL_INTERFACES if self.master else LOOPBACK)

    @property
    def listen_port(self) -> int:
        """0 (any free port) for local workers alone: they are told which one."""
        if self.port is not None:
            return self.port
        return LOCUST_MASTER_PORT if self.master else 0

    def check(self) -> None:
        """A ``ConfigError`` naming the option for a combination that cannot run."""
        if not 0 <= self.local_workers <= MAX_LOCAL_WORKERS:
            raise ConfigError(
                f"--workers {self.local_workers}: expected 0 to {MAX_LOCAL_WORKERS} processes"
            )
        if self.expect_workers < 0:
            raise ConfigError(f"--expect-workers {self.expect_workers}: expected 0 or more")
        if self.port is not None and not 0 < self.port < 65536:
            raise ConfigError(f"--master-port {self.port}: expected a port from 1 to 65535")
        if not 0 < self.wait_s <= 24 * 3600:
            raise ConfigError(
                f"--expect-workers-max-wait {self.wait_s:g}: expected seconds above 0, "
                "at most a day"
            )
        if self.master and self.expected == 0:
            raise ConfigError(
                "--master: say how many workers to wait for with --expect-workers N "
                "(local --workers count toward it)"
            )
        self._check_remote()

    def _check_remote(self) -> None:
        remote = self.expected - self.local_workers
        if remote > 0 and not self.master:
            raise ConfigError(
                f"--expect-workers {self.expect_workers} waits for {remote} worker(s) "
                f"besides the {self.local_workers} local ones: add --master so that "
                "`slagate worker --master-host THIS_HOST` can connect"
            )
        if not self.master and (self.bind_host is not None or self.port is not None):
            raise ConfigError("--master-bind-host and --master-port only apply with --master")

    def argv(self) -> list[str]:
        """The load child's options for this distribution (none for one process)."""
        if not self.distributed:
            return []
        argv = ["--workers", str(self.local_workers), "--expect-workers", str(self.expected)]
        argv += ["--expect-workers-max-wait", f"{self.wait_s:g}"]
        if not self.master:
            return argv  # loopback, any free port: the local workers are told which
        bind = ["--master-bind-host", self.listen_host, "--master-port", str(self.listen_port)]
        return [*argv, "--master", *bind]


class WorkerRoster:
    """Who took part in a distributed load, and how each one's reporting ended."""

    def __init__(self) -> None:
        self._joined: dict[str, None] = {}  # insertion-ordered set
        self._final: set[str] = set()
        self.lost: dict[str, str] = {}
        """Lost workers and how each was lost."""

    @property
    def joined(self) -> list[str]:
        return list(self._joined)

    def join(self, worker: str) -> bool:
        """``worker`` is connected; True the first time."""
        if worker in self._joined:
            return False
        self._joined[worker] = None
        return True

    def report(self, worker: str, final: bool) -> None:
        """A report arrived; ``final``: sent after the worker's users stopped (its last rows)."""
        if final:
            self._final.add(worker)

    @property
    def active(self) -> list[str]:
        return [w for w in self._joined if w not in self.lost]

    @property
    def awaiting_final(self) -> list[str]:
        """Active workers whose last report has not arrived yet."""
        return [w for w in self.active if w not in self._final]

    def lose(self, worker: str, why: str) -> bool:
        """Mark ``worker`` lost; True if it was active."""
        if worker not in self._joined or worker in self.lost:
            return False
        self.lost[worker] = why
        return True

    def losses(self, present: Mapping[str, bool]) -> list[tuple[str, str]]:
        """Workers lost while the load runs, given the master's view ``{id: missing}``:
        absent (it quit) or missing (no heartbeats). Each is returned once, with how."""
        found = []
        for worker in self.active:
            if worker not in present:
                found.append((worker, QUIT))
            elif present[worker]:
                found.append((worker, MISSED_HEARTBEATS))
        for worker, why in found:
            self.lose(worker, why)
        return found
