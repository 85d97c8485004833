"""Watching the scenario's abort rule while the load runs, in any Locust process.

Once a second while the load runs; on a trip it stops the load as a safety stop
(``Recording.stop_load``: the ``abort`` event, the run marked aborted, the shape halted, so
Locust stops at its next tick). Both the load child and plain ``locust -f --scenario``
install it, so the rule is watched the same way whoever drives the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent

from slagate.load.aborting import RULE, evaluate
from slagate.load.environment import Recording
from slagate.load.recorder import Clock
from slagate.scenario import Abort
from slagate.timeline import StopReason

CHECK_EVERY_S = 1.0


class AbortGuard:
    """``on_trip`` runs after the load was told to stop (the load child wakes up with it)."""

    def __init__(
        self,
        recording: Recording,
        rule: Abort,
        clock: Clock = time.time,
        on_trip: Callable[[], None] = lambda: None,
    ) -> None:
        self.recording = recording
        self.rule = rule
        self._clock = clock
        self._on_trip = on_trip
        self._greenlet: gevent.Greenlet | None = None

    def install(self) -> None:
        events = self.recording.environment.events
        events.test_start.add_listener(self._on_test_start)
        events.test_stop.add_listener(self._on_test_stop)

    def _on_test_start(self, **_kw: Any) -> None:
        self._greenlet = gevent.spawn(self._watch)

    def _on_test_stop(self, **_kw: Any) -> None:
        if self._greenlet is not None and self._greenlet is not gevent.getcurrent():
            self._greenlet.kill(block=False)
        self._greenlet = None

    def _watch(self) -> None:
        while True:
            gevent.sleep(CHECK_EVERY_S)
            explanation = evaluate(self.rule, self.recording.recorder, self._clock())
            if explanation is not None:
                self._trip(explanation)
                return

    def _trip(self, explanation: str) -> None:
        if self.recording.stop_load(StopReason.ABORT, RULE, explanation):
            self._on_trip()
