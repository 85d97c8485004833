"""The abort rule in a plain-Locust experiment (``locust -f ... --scenario FILE``).

The load child checks ``scenario.abort`` in its own loop; under Locust's ``main`` this
guard does: once a second while the load runs, and on a trip it records the ``abort``
event, marks the run aborted and halts the scenario's shape, which stops Locust at its next
tick (headless, Locust then quits and the plugin judges the run with exit code 3).
"""

from __future__ import annotations

import time
from typing import Any

import gevent

from slagate.load.aborting import RULE, evaluate
from slagate.load.recording import Clock
from slagate.load.wiring import Recording
from slagate.scenario import Abort

CHECK_EVERY_S = 1.0


class AbortGuard:
    def __init__(self, recording: Recording, rule: Abort, clock: Clock = time.time) -> None:
        self.recording = recording
        self.rule = rule
        self._clock = clock
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
        session = self.recording.session
        if not session.stop("abort", explanation):
            return
        session.event("abort", RULE, explanation)
        if self.recording.shape is not None:
            self.recording.shape.halt()
