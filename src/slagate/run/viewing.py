"""What the run shows a person while it works: one seam, so ``run`` draws nothing itself.

The CLI passes a ``slagate.terminal.TerminalView``; a library caller or a test passes
``SilentView`` (or its own). The run calls ``say`` for each step (starting the sandbox,
waiting for actions, the cooldown), ``load_progress`` about four times a second while the
load child runs, and ``load_done`` once the load ended.
"""

from __future__ import annotations

from typing import Protocol

from slagate.load.progress import LoadStatus


class RunView(Protocol):
    def say(self, text: str) -> None:
        """One line about what the run is doing (plain text, never markup)."""

    def load_progress(self, status: LoadStatus, planned_s: float) -> None:
        """The load's latest progress; ``planned_s`` is the scenario's load duration."""

    def load_done(self) -> None:
        """The load ended (stop drawing a progress bar)."""


class SilentView:
    """A ``RunView`` that shows nothing."""

    def say(self, text: str) -> None:
        pass

    def load_progress(self, status: LoadStatus, planned_s: float) -> None:
        pass

    def load_done(self) -> None:
        pass
