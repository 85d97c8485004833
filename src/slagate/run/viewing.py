"""What the run shows a person while it works: one seam, so ``run`` draws nothing itself.

The CLI passes a ``slagate.terminal.TerminalView``; a library caller or a test passes
``SilentView`` (or its own). The run calls ``say`` for each step (starting the sandbox,
waiting for actions, the cooldown), ``load_progress`` about four times a second while the
load child runs, ``live_slas`` about once a second with each SLA's status so far
(``slagate.sla.live``), and ``load_done`` once the load ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slagate.load.progress import LoadStatus
from slagate.sla.live import LiveStatus


class RunView(Protocol):
    def say(self, text: str) -> None:
        """One line about what the run is doing (plain text, never markup)."""

    def load_progress(self, status: LoadStatus, planned_s: float) -> None:
        """The load's latest progress; ``planned_s`` is the scenario's load duration."""

    def live_slas(self, statuses: Sequence[LiveStatus]) -> None:
        """Each SLA's status so far, in scenario order (the live table)."""

    def load_done(self) -> None:
        """The load ended (stop drawing a progress bar and the live table)."""


class SilentView:
    """A ``RunView`` that shows nothing."""

    def say(self, text: str) -> None:
        pass

    def load_progress(self, status: LoadStatus, planned_s: float) -> None:
        pass

    def live_slas(self, statuses: Sequence[LiveStatus]) -> None:
        pass

    def load_done(self) -> None:
        pass
