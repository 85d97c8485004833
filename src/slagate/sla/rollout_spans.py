"""Rollout spans: when each rolling deploy a run triggered started, completed and settled.

Read from the harness events, for the ``rollout`` window and the ``rollout_duration`` SLA;
and the undos of rollouts a failed run made (``rollback_spans``), for the summary.

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


@dataclass(frozen=True)
class RollbackSpan:
    """One undo of a rollout (``on_fail: rollback``): its ``rollback_start`` and
    ``rollback_end`` (epoch ms) and what each said."""

    deployment: str
    start_ms: int
    reason: str  # the start's message: "to revision 1: the run failed: ..."
    end_ms: int | None = None
    outcome: str = ""  # the end's message: "ok revision 3", "timeout ...", the error

    @property
    def ok(self) -> bool:
        return self.outcome.startswith("ok")

    def describe(self) -> str:
        """``rolled back deployment/order to revision 1 (ok revision 3 after 6.2 s)``."""
        target = self.reason.split(":", 1)[0]
        if self.end_ms is None:
            return f"rollback of deployment/{self.deployment} {target}: never ended"
        took = (self.end_ms - self.start_ms) / 1000
        verb = "rolled back" if self.ok else "rollback of"
        return f"{verb} deployment/{self.deployment} {target}: {self.outcome} after {took:.1f} s"

    def to_json(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "reason": self.reason,
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RollbackSpan:
        end = data.get("end_ms")
        return cls(
            deployment=str(data["deployment"]),
            start_ms=int(data["start_ms"]),
            reason=str(data.get("reason", "")),
            end_ms=None if end is None else int(end),
            outcome=str(data.get("outcome", "")),
        )


def rollback_spans(harness: pd.DataFrame) -> tuple[RollbackSpan, ...]:
    """Every undo recorded in the harness events, in start order: each ``rollback_start``
    with the first ``rollback_end`` of the same name after it."""
    rows = harness[harness["kind"].isin((EventKind.ROLLBACK_START, EventKind.ROLLBACK_END))]
    events = [
        (str(kind), str(name), int(t_ms), str(message or ""))
        for kind, name, t_ms, message in zip(
            rows["kind"], rows["name"], rows["t_ms"], rows["message"], strict=True
        )
    ]
    spans = []
    for kind, name, t_ms, message in events:
        if kind != EventKind.ROLLBACK_START:
            continue
        end = next(
            (
                (t, m)
                for k, n, t, m in events
                if k == EventKind.ROLLBACK_END and n == name and t >= t_ms
            ),
            None,
        )
        spans.append(
            RollbackSpan(
                deployment=name.partition("/")[2],
                start_ms=t_ms,
                reason=message,
                end_ms=None if end is None else end[0],
                outcome="" if end is None else end[1],
            )
        )
    return tuple(sorted(spans, key=lambda s: s.start_ms))
