"""Live progress of a run on the terminal (rich), or plain lines when not a TTY (CI logs)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from slagate.run.child import LoadStatus

PLAIN_EVERY_S = 5.0


class ProgressDisplay:
    """Shows elapsed load time against the scenario's duration, users, rps and failures."""

    def __init__(self, console: Console, duration_s: float, clock: Callable[[], float]) -> None:
        self.console = console
        self.duration_s = duration_s
        self.clock = clock
        self._live = console.is_terminal
        self._progress = Progress(
            TextColumn("[bold]load[/]"),
            BarColumn(),
            TextColumn("{task.fields[line]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task("load", total=duration_s, line="starting")
        self._last_plain = 0.0
        self._events_seen = 0

    def __enter__(self) -> ProgressDisplay:
        if self._live:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live:
            self._progress.stop()

    def update(self, status: LoadStatus) -> None:
        elapsed = self._elapsed(status)
        line = describe(status)
        self._print_events(status)
        if self._live:
            self._progress.update(self._task, completed=min(elapsed, self.duration_s), line=line)
        elif self.clock() - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = self.clock()
            self.console.print(f"load {elapsed:5.0f}/{self.duration_s:.0f} s  {line}")

    def _elapsed(self, status: LoadStatus) -> float:
        if status.load_start_ms is None or not status.t_ms:
            return 0.0
        return max(0.0, (status.t_ms - status.load_start_ms) / 1000.0)

    def _print_events(self, status: LoadStatus) -> None:
        new = min(status.event_count - self._events_seen, len(status.events))
        for text in status.events[len(status.events) - new :] if new > 0 else ():
            if not text.startswith("users"):
                self.console.print(f"[dim]event[/] {text}", markup=True, highlight=False)
        self._events_seen = status.event_count


def describe(status: LoadStatus) -> str:
    return (
        f"users {status.users:>4}  rps {status.rps:7.1f}  "
        f"requests {status.requests:>9,}  failures {status.failures:>7,}"
    )


def monotonic() -> float:
    return time.monotonic()
