"""No-lost-writes SLAs: every write the target acknowledged could be read back after the run.

Pure: ``evaluate_no_lost_writes(spec, timeline, window) -> Verdict`` reads only the timeline;
no clients, no clock reads, no logging, no I/O.

The writes judged are the ``acks`` of ``spec.ack_kind`` acknowledged inside the window (so a
``rollout`` window asks whether a write acknowledged during the rollout survived). The
``integrity`` table holds the read-back of each key after the run; the last check of a key
counts, and a write is lost unless that check was ``ok`` (an unknown result proves nothing).
Acknowledged keys the read-back never checked are named in the message but do not count as
lost. No acks is no-data; acks without a single check means the read-back did not run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from slagate.scenario import NoLostWritesSla
from slagate.sla.building import judged, no_data, window_never_began
from slagate.sla.formatting import capped, count, plural, versus
from slagate.sla.verdict import Evidence, Verdict, Window
from slagate.timeline import Timeline

FIRST_LOST = 10


def evaluate_no_lost_writes(
    spec: NoLostWritesSla, timeline: Timeline, window: Window | None
) -> Verdict:
    """Acknowledged ``spec.ack_kind`` writes not readable after the run, at most ``max_lost``."""
    if window is None:
        return window_never_began(spec)
    kind = spec.ack_kind
    acks = _acked(timeline.acks, kind, window)
    if acks.empty:
        return no_data(spec, window, f"no {kind} write acknowledged")
    checks = _last_checks(timeline.integrity, kind, acks.index)
    if checks.empty:
        return no_data(
            spec,
            window,
            f"the read-back did not run: none of the {plural(len(acks), kind + ' write')} "
            "acknowledged was checked",
        )
    lost = checks[~checks["ok"].fillna(False).astype(bool)]
    ok = len(lost) <= spec.max_lost
    message = (
        f"lost {kind} writes {count(len(lost))} {versus(ok)} {count(spec.max_lost)} "
        f"in {window.label}: {count(len(lost))} of {plural(len(checks), 'acknowledged write')} "
        "not readable after the run"
    )
    unchecked = len(acks) - len(checks)
    if unchecked:
        message += f"; {count(unchecked)} acknowledged not read back"
    if ok:
        return judged(spec, ok, float(len(lost)), window, message)
    return judged(spec, ok, float(len(lost)), window, message, _evidence(lost, acks, kind))


def _acked(acks: pd.DataFrame, kind: str, window: Window) -> pd.DataFrame:
    """The first acknowledgement of each ``kind`` key inside ``window``, indexed by key."""
    t = acks["t_ms"]
    inside = acks[(acks["kind"] == kind) & (t >= window.start_ms) & (t < window.end_ms)]
    first = inside.sort_values("t_ms", kind="stable").drop_duplicates("key")
    return first.set_index("key")


def _last_checks(integrity: pd.DataFrame, kind: str, keys: pd.Index) -> pd.DataFrame:
    """The last read-back of each of ``keys``, indexed by key."""
    mine = integrity[(integrity["kind"] == kind) & integrity["key"].isin(keys)]
    last = mine.sort_values("t_ms", kind="stable").drop_duplicates("key", keep="last")
    return last.set_index("key")


def _evidence(lost: pd.DataFrame, acks: pd.DataFrame, kind: str) -> list[Evidence]:
    """The lost writes in acknowledgement order: key, when acknowledged, what came back."""
    rows = lost.assign(acked_ms=acks.loc[lost.index, "t_ms"])
    rows = rows.sort_values("acked_ms", kind="stable")
    lines = [
        Evidence(int(t_ms), f"{kind} {key} acknowledged; read back: {_read(status)}")
        for key, t_ms, status in zip(rows.index, rows["acked_ms"], rows["status"], strict=True)
    ]
    return capped(lines, "lost writes", FIRST_LOST)


def _read(status: Any) -> str:
    if status is None or pd.isna(status):
        return "no result"
    return "connection error" if int(status) == 0 else f"status {int(status)}"
