"""The master's side of a distributed load: local worker processes and the worker watch.

Locust's master/worker protocol does the distributing; this module only follows it from
the load child (a Locust master in library mode):

- ``LocalWorkers`` starts ``--workers N`` processes (``python -m slagate.load.worker``)
  against the master on loopback, each logging to ``worker-<i>.log`` in the run folder;
  they die with the load child.
- ``WorkerWatch`` waits for the expected workers before any load (a ``LoadError`` naming
  how many are missing), records each worker that joins (``worker_joined``), notices a
  worker lost while the load runs (``worker_lost``: it quit, or missed Locust's
  heartbeats), and after the stop drains: waits until every active worker sent the
  report it makes once its users stopped (``slagate.load.environment.FINAL_KEY``), so
  every request is merged before the run is judged (docs/locust.md, "Distributed runs").
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import gevent
from locust.runners import STATE_MISSING, STATE_RUNNING, STATE_SPAWNING, WORKER_REPORT_INTERVAL

from slagate.children import die_with_parent
from slagate.errors import LoadError
from slagate.load.environment import Recording
from slagate.load.launching import worker_command
from slagate.load.workforce import LOCAL_START_S, NO_FINAL_REPORT, WorkerRoster
from slagate.timeline import EventKind

logger = logging.getLogger(__name__)

POLL_S = 0.2
WATCH_S = 1.0
DRAIN_S = 2 * WORKER_REPORT_INTERVAL + 2.0
"""A stopped worker's last report comes at its next report tick (every 3 s); one missed
tick is allowed for a busy machine."""

QUIT_WAIT_S = 15.0


class LocalWorkers:
    """Worker processes on this machine, connected to the master on loopback."""

    def __init__(self, procs: list[subprocess.Popen[bytes]]) -> None:
        self.procs = procs

    @classmethod
    def start(cls, count: int, port: int, locustfile: str, log_dir: Path) -> LocalWorkers:
        argv = worker_command("127.0.0.1", port, locustfile)
        procs = []
        for index in range(count):
            with (log_dir / f"worker-{index}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        argv,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        preexec_fn=die_with_parent(signal.SIGTERM),
                    )
                )
        return cls(procs)

    def exited(self) -> list[int]:
        """Exit codes of the workers that already ended."""
        return [code for code in (p.poll() for p in self.procs) if code is not None]

    def close(self, timeout_s: float = QUIT_WAIT_S) -> None:
        """Wait for the workers to quit (the master told them), then end the stragglers."""
        deadline = time.monotonic() + timeout_s
        for proc in self.procs:
            while proc.poll() is None and time.monotonic() < deadline:
                gevent.sleep(POLL_S)
            if proc.poll() is None:
                logger.warning("slagate: worker process %d did not quit; terminating it", proc.pid)
                proc.terminate()
                proc.wait(timeout=10)


class WorkerWatch:
    """Follows the master's workers for one run (see the module doc)."""

    def __init__(self, recording: Recording, expected: int, wait_s: float) -> None:
        self.recording = recording
        self.roster: WorkerRoster = recording.roster
        self.expected = expected
        self.wait_s = wait_s
        self._greenlet: gevent.Greenlet | None = None

    @property
    def runner(self) -> Any:
        return self.recording.environment.runner

    def wait_for_workers(self, local: LocalWorkers | None) -> None:
        """Return once ``expected`` workers are connected; a ``LoadError`` naming how many
        are missing after ``wait_s``, counted from when the local workers are connected
        (their start-up on a busy machine is not the remote workers' delay), or as soon
        as every local worker died."""
        started = 0 if local is None else len(local.procs)
        self._wait_until(started, LOCAL_START_S, local)
        self._wait_until(self.expected, self.wait_s, local)

    def _wait_until(self, count: int, wait_s: float, local: LocalWorkers | None) -> None:
        deadline = time.monotonic() + wait_s
        while True:
            connected = self._see_joined()
            if connected >= count:
                return
            dead = local is not None and len(local.exited()) == len(local.procs)
            if dead or time.monotonic() > deadline:
                raise LoadError(self._missing_message(connected, wait_s, local))
            gevent.sleep(POLL_S)

    def _missing_message(self, connected: int, wait_s: float, local: LocalWorkers | None) -> str:
        missing = self.expected - connected
        port = self.runner.server.port
        message = (
            f"{connected} of {self.expected} expected workers connected within "
            f"{wait_s:g} s: {missing} missing; no load was sent. Start them with "
            f"`slagate worker --master-host THIS_HOST --master-port {port}`, or lower "
            "--expect-workers"
        )
        if local is not None and local.exited():
            message += f"; {len(local.exited())} local worker(s) exited, see worker-*.log"
        return message

    def _see_joined(self) -> int:
        """Record newly connected workers; returns how many are connected now."""
        clients = list(self.runner.clients.all)
        for client in clients:
            if self.roster.join(client.id):
                self.recording.session.event(EventKind.WORKER_JOINED, client.id)
        return sum(1 for c in clients if c.state != STATE_MISSING)

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._watch)

    def _watch(self) -> None:
        while True:
            gevent.sleep(WATCH_S)
            if self.runner.state not in (STATE_SPAWNING, STATE_RUNNING):
                continue
            self._see_joined()
            present = {c.id: c.state == STATE_MISSING for c in self.runner.clients.all}
            for worker, why in self.roster.losses(present):
                self._record_loss(worker, why)

    def _record_loss(self, worker: str, why: str) -> None:
        logger.error("slagate: worker %s lost: %s", worker, why)
        self.recording.session.event(EventKind.WORKER_LOST, worker, why)

    def drain(self, wait_s: float = DRAIN_S) -> None:
        """After the stop: wait for every active worker's last report; a worker whose
        last report never comes is recorded lost (its last seconds are missing)."""
        if self._greenlet is not None:
            self._greenlet.kill()
        deadline = time.monotonic() + wait_s
        while self.roster.awaiting_final and time.monotonic() < deadline:
            gevent.sleep(POLL_S)
        for worker in self.roster.awaiting_final:
            why = NO_FINAL_REPORT.format(wait=wait_s)
            self.roster.lose(worker, why)
            self._record_loss(worker, why)
