"""Windows: the named spans of a run an SLA is judged in, resolved from the timeline.

Pure: everything comes from the timeline's harness events, ``run.json`` and the times of
its recorded rows; no clock reads, no I/O, no logging. docs/contracts.md "Windows" is the
specification:

- ``run``: run.json ``started_ms`` .. ``ended_ms``; without them, the first event .. the last
  event or the end of the recorded data, whichever is later.
- ``load``: ``load_start`` .. ``load_stop``. A killed run has no ``load_stop``: the load then
  ends with the recorded data (last ``requests`` second + 1 s), else at run.json ``ended_ms``.
- ``steady``: scenario ``windows.steady`` if given, else the longest span in which the
  ``users`` target equals its peak, clipped to the load window (the first such span on a tie).
- ``cooldown``: ``load_stop`` .. run end.
- ``rollout``: the first ``action_start`` of a rollout (``rollout_restart``, ``set_image``)
  .. its ``rollout_settled`` (old pods gone), else its ``action_end``. Several rollouts give
  one window from the first start to the last end (the time between them included). A
  rollout with neither event ends the window at the end of the recorded data (the latest
  row of requests, failures, events or the Kubernetes tables). A window holding a rollout
  that never settled is named ``rollout (unfinished)``, so every message judged in it says
  so. ``slagate.sla.rollout_spans`` reads the rollouts from the events.
- explicit ``{start, end}`` (inline or named in ``scenario.windows``): seconds after
  ``load_start``; ``end`` omitted means the end of the load window.

A window that never began, or that would be empty, is ``None``: judged as no-data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from slagate.scenario import BUILTIN_WINDOWS, Scenario, WindowRef, WindowSpan
from slagate.sla.rollout_spans import RolloutSpan, rollout_spans
from slagate.sla.verdict import Window
from slagate.timeline import EventKind, RunInfo, Timeline, WindowBounds

_NEVER_BEGAN = {
    "run": "no started_ms in run.json and no event recorded",
    "load": "no load_start event, or nothing recorded after it",
    "steady": "no load_start event, or no users event during the load",
    "cooldown": "no load_stop event, or the run ended with the load",
    "rollout": "no rollout recorded",
}
_EXPLICIT_NEVER_BEGAN = "no load_start event, or the load ended before the window's start"


@dataclass(frozen=True)
class Anchors:
    """The instants windows are built from, in epoch ms (``None`` when not recorded).

    ``load_end_ms`` is ``load_stop_ms`` or, for a killed run, the end of the recorded data.
    ``users`` lists ``(t_ms, target users)`` from the ``users`` events, in time order.
    ``data_end_ms`` is just after the latest recorded row (``None`` when nothing was).
    """

    run_start_ms: int | None
    run_end_ms: int | None
    load_start_ms: int | None
    load_stop_ms: int | None
    load_end_ms: int | None
    users: tuple[tuple[int, int], ...] = ()
    rollouts: tuple[RolloutSpan, ...] = ()
    data_end_ms: int | None = None

    @property
    def origin_ms(self) -> int | None:
        """What window labels count from: load start, else run start."""
        return self.load_start_ms if self.load_start_ms is not None else self.run_start_ms


def anchors_of(timeline: Timeline) -> Anchors:
    """Read the window anchors from the harness events, run.json and the requests table."""
    events = timeline.harness_events()
    load_start = _first(events, EventKind.LOAD_START, None)
    load_stop = _first(events, EventKind.LOAD_STOP, load_start) if load_start is not None else None
    data_end = _data_end_ms(timeline.requests)
    run_end = _run_end_ms(timeline.info, events, data_end)
    load_end = load_stop if load_stop is not None else _killed_load_end(data_end, timeline.info)
    return Anchors(
        run_start_ms=timeline.info.started_ms,
        run_end_ms=run_end,
        load_start_ms=load_start,
        load_stop_ms=load_stop,
        load_end_ms=load_end if load_start is not None else None,
        users=_users_targets(events),
        rollouts=rollout_spans(events),
        data_end_ms=_recorded_end_ms(timeline),
    )


def resolve_window(
    ref: WindowRef, timeline: Timeline, named: Mapping[str, WindowSpan] | None = None
) -> Window | None:
    """The window ``ref`` names (builtin, a ``scenario.windows`` name, or an inline span)."""
    return window_from(ref, anchors_of(timeline), named or {})


def resolve_all_windows(scenario: Scenario, timeline: Timeline) -> dict[str, WindowBounds]:
    """Every builtin and named window that began, as run.json stores them."""
    anchors = anchors_of(timeline)
    names = (*BUILTIN_WINDOWS, *(n for n in scenario.windows if n not in BUILTIN_WINDOWS))
    resolved = {name: window_from(name, anchors, scenario.windows) for name in names}
    return {
        name: WindowBounds(start_ms=w.start_ms, end_ms=w.end_ms)
        for name, w in resolved.items()
        if w is not None
    }


def window_from(ref: WindowRef, anchors: Anchors, named: Mapping[str, WindowSpan]) -> Window | None:
    """Resolve ``ref`` against already read anchors (see the module docstring)."""
    if isinstance(ref, WindowSpan):
        return _explicit(span_name(ref), ref, anchors)
    if ref in named:
        return _explicit(ref, named[ref], anchors)
    if ref == "rollout":
        return _rollout(anchors)
    bounds = _builtin_bounds(ref, anchors)
    return None if bounds is None else _window(ref, *bounds, anchors)


def never_began(ref: WindowRef) -> str:
    """Why ``ref`` may have resolved to ``None``, for a no-data message.

    A name that is not builtin is a ``scenario.windows`` span (the scenario checks that).
    """
    if isinstance(ref, WindowSpan):
        return _EXPLICIT_NEVER_BEGAN
    return _NEVER_BEGAN.get(ref, _EXPLICIT_NEVER_BEGAN)


def span_name(span: WindowSpan) -> str:
    """An inline span's name, as SLA ids spell it: ``10s-40s``, ``10s-end``."""
    end = "end" if span.end is None else f"{span.end:g}s"
    return f"{span.start:g}s-{end}"


# --- builtin windows ------------------------------------------------------------------------


def _builtin_bounds(name: str, a: Anchors) -> tuple[int | None, int | None] | None:
    if name == "run":
        return a.run_start_ms, a.run_end_ms
    if name == "load":
        return a.load_start_ms, a.load_end_ms
    if name == "steady":
        return _steady(a)
    if name == "cooldown":
        return a.load_stop_ms, a.run_end_ms
    return None


def _rollout(a: Anchors) -> Window | None:
    """First rollout start .. last rollout end; the data end if one never ended."""
    if not a.rollouts:
        return None
    ends = [r.end_ms for r in a.rollouts]
    end = a.data_end_ms if None in ends else max(e for e in ends if e is not None)
    unfinished = not all(r.settled for r in a.rollouts)
    name = "rollout (unfinished)" if unfinished else "rollout"
    return _window(name, a.rollouts[0].start_ms, end, a)


def _steady(a: Anchors) -> tuple[int | None, int | None] | None:
    """The longest span at the peak ``users`` target, clipped to the load window."""
    if a.load_start_ms is None or a.load_end_ms is None:
        return None
    spans = _clipped_spans(a.users, a.load_start_ms, a.load_end_ms)
    if not spans:
        return None
    peak = max(users for _, _, users in spans)
    runs = _merged(s for s in spans if s[2] == peak)
    return max(runs, key=lambda r: r[1] - r[0])


def _clipped_spans(
    users: tuple[tuple[int, int], ...], start: int, end: int
) -> list[tuple[int, int, int]]:
    """``(from, to, users)`` for each target in force, clipped to ``[start, end)``."""
    ends = [t for t, _ in users[1:]] + [end] if users else []
    spans = [(max(t, start), min(e, end), u) for (t, u), e in zip(users, ends, strict=True)]
    return [s for s in spans if s[1] > s[0]]


def _merged(spans: Iterable[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Join spans that touch (the same target announced twice) into runs."""
    runs: list[tuple[int, int]] = []
    for lo, hi, _ in spans:
        if runs and runs[-1][1] == lo:
            runs[-1] = (runs[-1][0], hi)
        else:
            runs.append((lo, hi))
    return runs


def _explicit(name: str, span: WindowSpan, a: Anchors) -> Window | None:
    if a.load_start_ms is None:
        return None
    start = a.load_start_ms + round(span.start * 1000)
    end = a.load_end_ms if span.end is None else a.load_start_ms + round(span.end * 1000)
    return _window(name, start, end, a)


def _window(name: str, start: int | None, end: int | None, a: Anchors) -> Window | None:
    if start is None or end is None or end <= start:
        return None
    return Window(name, start, end, origin_ms=a.origin_ms)


# --- reading the anchors --------------------------------------------------------------------


def _first(events: pd.DataFrame, kind: EventKind, not_before: int | None) -> int | None:
    times = events.loc[events["kind"] == kind, "t_ms"]
    if not_before is not None:
        times = times[times >= not_before]
    return int(times.iloc[0]) if len(times) else None


def _users_targets(events: pd.DataFrame) -> tuple[tuple[int, int], ...]:
    users = events[events["kind"] == EventKind.USERS]
    counts = pd.to_numeric(users["name"], errors="coerce")
    valid = counts.notna()
    return tuple(zip(users["t_ms"][valid].astype(int), counts[valid].astype(int), strict=True))


def _data_end_ms(requests: pd.DataFrame) -> int | None:
    last = requests["t_s"].max() if len(requests) else None
    return None if last is None or pd.isna(last) else (int(last) + 1) * 1000


def _recorded_end_ms(timeline: Timeline) -> int | None:
    span = timeline.data_span_ms()
    return None if span is None else span[1]


def _killed_load_end(data_end: int | None, info: RunInfo) -> int | None:
    return data_end if data_end is not None else info.ended_ms


def _run_end_ms(info: RunInfo, events: pd.DataFrame, data_end: int | None) -> int | None:
    ended = info.ended_ms
    if ended is not None:
        return ended
    candidates = [data_end, int(events["t_ms"].iloc[-1]) if len(events) else None]
    known = [c for c in candidates if c is not None]
    return max(known) if known else None
