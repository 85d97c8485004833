"""Rollout spans: when each rolling deploy a run triggered started, completed and settled.

Read from the harness events, for the ``rollout`` window and the ``rollout_duration`` SLA.

Pure: reads the ``events`` table only; no clock reads, no logging, no I/O.

The Kubernetes action runner writes, for each action, an ``action_start`` whose name is
``"<action kind> <target>"`` (``"rollout_restart deployment/order"``), and with the same name
``rollout_complete`` (the ``kubectl rollout status`` rule met), ``rollout_settled`` (the old
pods are gone) and ``action_end`` (message ``"ok"``, ``"timeout"`` or the error). A rollout is
an action of kind ``rollout_restart`` or ``set_image``; its other events are the first of
each kind with the same name after its start and before the next start of that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from slagate.timeline import EventKind

ROLLOUT_ACTIONS = ("rollout_restart", "set_image")
_PHASES = (EventKind.ROLLOUT_COMPLETE, EventKind.ROLLOUT_SETTLED, EventKind.ACTION_END)


@dataclass(frozen=True)
class RolloutSpan:
    """One rollout action and when each of its phases was recorded (epoch ms)."""

    name: str  # the action's event name, e.g. "rollout_restart deployment/order"
    start_ms: int
    complete_ms: int | None = None  # rollout_complete: new pods available
    settled_ms: int | None = None  # rollout_settled: old pods gone as well
    ended_ms: int | None = None  # action_end
    outcome: str = ""  # the action_end message: "ok", "timeout" or the error

    @property
    def deployment(self) -> str | None:
        """The Deployment the action targets (from ``deployment/<name>`` in its name)."""
        for word in self.name.split()[1:]:
            kind, _, name = word.partition("/")
            if kind.lower() in ("deployment", "deployments", "deploy") and name:
                return name
        return None

    @property
    def end_ms(self) -> int | None:
        """When the rollout stopped being measured: settled, else the action's end."""
        return self.settled_ms if self.settled_ms is not None else self.ended_ms

    @property
    def settled(self) -> bool:
        return self.settled_ms is not None


def rollout_spans(harness: pd.DataFrame) -> tuple[RolloutSpan, ...]:
    """Every rollout recorded in the harness events (``Timeline.harness_events``, in time
    order), in start order (see the module docstring)."""
    starts = harness[(harness["kind"] == EventKind.ACTION_START) & _is_rollout(harness["name"])]
    phases = harness[harness["kind"].isin(_PHASES)]
    rollouts = []
    for name, group in starts.groupby("name", sort=False):
        times = [int(t) for t in group["t_ms"]]
        own = phases[phases["name"] == name]
        for start, stop in zip(times, [*times[1:], None], strict=True):
            rollouts.append(_rollout(str(name), start, stop, own))
    return tuple(sorted(rollouts, key=lambda r: r.start_ms))


def _is_rollout(names: pd.Series) -> pd.Series:
    kinds = names.fillna("").str.split(" ", n=1).str[0]
    return kinds.isin(ROLLOUT_ACTIONS)


def _rollout(name: str, start: int, stop: int | None, phases: pd.DataFrame) -> RolloutSpan:
    after = phases[phases["t_ms"] >= start]
    if stop is not None:
        after = after[after["t_ms"] < stop]
    first = after.drop_duplicates("kind").set_index("kind")
    ended = first["t_ms"].get(EventKind.ACTION_END)
    return RolloutSpan(
        name=name,
        start_ms=start,
        complete_ms=_ms(first["t_ms"].get(EventKind.ROLLOUT_COMPLETE)),
        settled_ms=_ms(first["t_ms"].get(EventKind.ROLLOUT_SETTLED)),
        ended_ms=_ms(ended),
        outcome="" if ended is None else str(first["message"].get(EventKind.ACTION_END) or ""),
    )


def _ms(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
