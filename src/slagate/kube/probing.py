"""How fast the API server answers while the cluster is recorded: ``api_slow`` events.

A slow API server (overloaded, or behind a slow network) cuts no watch, so no
``watch_gap`` says anything, yet every watch event reaches the recorder late and carries
the time it was received. ``ApiProbe`` asks ``GET /version`` (the cheapest request every
API server answers, and no list or watch of the recorded kinds) every
``probe_interval_s`` and measures each answer. Answers that take ``slow_answer_s`` or
more make a slow span, from the first slow request's start to the last one's answer; the
first answer faster than that ends it, and an ``api_slow`` harness event at the span's
start says how long it lasted and how slow the slowest answer was. A span still open
when the recording stops is recorded as such.

One thread (``kube-probe``); its rows go through a ``RowSink`` of their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kubernetes import client

from slagate.errors import KubernetesError
from slagate.kube.connecting import api_call, server_of
from slagate.kube.streaming import StopSignal
from slagate.timeline import EventKind, EventRow, EventSource, Table

if TYPE_CHECKING:
    from slagate.kube.watching import RecorderSettings

logger = logging.getLogger(__name__)
Clock = Callable[[], float]  # epoch seconds

PROBE_NAME = "apiserver"
"""The ``name`` of every ``api_slow`` event."""


class EventSink(Protocol):
    def append(self, table: Table, rows: list[EventRow]) -> None: ...


@dataclass
class SlowSpan:
    """Answers slower than the line: from the first slow request's start (epoch s) to
    the last slow answer, and the slowest answer (s)."""

    start_s: float
    end_s: float
    slowest_s: float
    error: str = ""

    def event(self, how_it_ended: str, interval_s: float) -> EventRow:
        message = (
            f"the API server took up to {self.slowest_s:.1f} s to answer for "
            f"{self.end_s - self.start_s:.1f} s (GET /version every {interval_s:g} s"
            f"{'; last error: ' + self.error if self.error else ''}); {how_it_ended}: "
            "watch events in that time were received late and carry the time they were received"
        )
        t_ms = int(self.start_s * 1000)
        return EventRow(t_ms, EventSource.HARNESS, EventKind.API_SLOW, PROBE_NAME, message)


class ApiProbe:
    """Measures the API server's answers while the recorder runs (``start``, then the
    recorder's ``StopSignal`` ends it and ``join`` waits)."""

    def __init__(
        self,
        api_client: client.ApiClient,
        sink: EventSink,
        clock: Clock,
        stop: StopSignal,
        settings: RecorderSettings,
    ) -> None:
        self._version = client.VersionApi(api_client)
        self._server = server_of(api_client)
        self._sink, self._clock, self._stop, self._settings = sink, clock, stop, settings
        self._span: SlowSpan | None = None
        self._asked_s: float | None = None  # when the request in flight was sent
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kube-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> bool:
        """Wait for the thread; a span still open (or a request still unanswered, as
        long as the line) is recorded as not over. True if the thread ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        with self._lock:
            now = self._clock()
            asked_s, self._asked_s = self._asked_s, None  # a late answer is not recorded
            if asked_s is not None and now - asked_s >= self._settings.slow_answer_s:
                self._widen(asked_s, now, "no answer yet")
            span, self._span = self._span, None
        if span is not None:
            event = span.event("not over when the recording stopped", self._interval_s)
            self._sink.append(Table.EVENTS, [event])
        return not self._thread.is_alive()

    @property
    def _interval_s(self) -> float:
        return self._settings.probe_interval_s

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            with self._lock:
                self._asked_s = asked = self._clock()
            error = self._ask()
            with self._lock:
                if self._asked_s is None:  # join gave up on this request and recorded it
                    return
                self._asked_s = None
                self._measured(asked, self._clock(), error)

    def _ask(self) -> str:
        """``GET /version``; the error, or "" when it answered."""
        try:
            with api_call("GET /version", self._server):
                self._version.get_code(_request_timeout=self._settings.request_timeout_s)
        except KubernetesError as error:
            return str(error)
        return ""

    def _measured(self, asked_s: float, answered_s: float, error: str) -> None:
        if answered_s - asked_s >= self._settings.slow_answer_s:
            self._widen(asked_s, answered_s, error)
        elif self._span is not None and not error:
            span, self._span = self._span, None
            self._sink.append(Table.EVENTS, [span.event("then fast again", self._interval_s)])

    def _widen(self, start_s: float, end_s: float, error: str) -> None:
        took_s = end_s - start_s
        if self._span is None:
            self._span = SlowSpan(start_s, end_s, took_s, error)
            logger.warning("the API server %s took %.1f s to answer", self._server, took_s)
            return
        self._span.end_s = max(self._span.end_s, end_s)
        self._span.slowest_s = max(self._span.slowest_s, took_s)
        self._span.error = error or self._span.error
