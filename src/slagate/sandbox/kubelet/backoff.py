"""Crash-loop back-off: when a container that exited may start again.

Upstream (``kuberuntime_manager.doBackOff`` over ``client-go/util/flowcontrol.Backoff``):
the first restart is immediate and arms a back-off of ``initial``; a container that
exits again less than that after its previous exit waits out the back-off, which then
doubles up to ``max`` (10 s, 20 s, 40 s, ... 300 s by default). Exits more than
``RESET_AFTER_S`` apart (a container that ran fine for 10 minutes) start over.
Pure: times are float seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

RESET_AFTER_S = 600.0
"""An exit this long after the previous one forgets the back-off (upstream: 10 min)."""


@dataclass(frozen=True)
class Backoff:
    """The back-off armed by the last restart: ``delay_s``, counted from ``since_s``
    (the exit that restart followed)."""

    delay_s: float
    since_s: float


def expired(backoff: Backoff | None, finished_s: float) -> bool:
    return backoff is None or finished_s - backoff.since_s > RESET_AFTER_S


def restart_at(backoff: Backoff | None, finished_s: float) -> float:
    """When a container that exited at ``finished_s`` may start again."""
    if expired(backoff, finished_s):
        return finished_s
    assert backoff is not None
    return finished_s + backoff.delay_s


def advance(backoff: Backoff | None, finished_s: float, initial_s: float, max_s: float) -> Backoff:
    """The back-off after restarting the container that exited at ``finished_s``."""
    if expired(backoff, finished_s):
        return Backoff(min(initial_s, max_s), finished_s)
    assert backoff is not None
    return Backoff(min(backoff.delay_s * 2, max_s), finished_s)


def go_duration(seconds: float) -> str:
    """``seconds`` as Go prints a ``time.Duration`` in kubelet messages: ``10s``, ``1m20s``,
    ``5m0s``, ``250ms``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text
