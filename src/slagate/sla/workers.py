"""The ``workers`` verdict of a distributed run: did every Locust worker report to the end?

Pure: ``evaluate_workers(timeline, tolerate_loss) -> Verdict | None`` reads only the
timeline; no clients, no clock reads, no logging, no I/O.

It is not declared in the scenario: every run whose events name workers
(``worker_joined``) gets one, after the declared SLAs. A worker lost mid-run
(``worker_lost``) took its users and its last unreported seconds with it, so the load was
not the one declared: that fails the gate unless the scenario says
``load.tolerate_worker_loss: true``, and then the verdict passes and says so. The message
gives each worker's request count (the ``worker`` column of ``requests``), so the run
folder says which worker sent what.
"""

from __future__ import annotations

import pandas as pd

from slagate.sla.formatting import count, plural
from slagate.sla.verdict import Evidence, Status, Verdict
from slagate.sla.windows import anchors_of
from slagate.timeline import EventKind, Timeline

WORKERS_ID = "workers"
TOLERATE = "load.tolerate_worker_loss: true"


def evaluate_workers(timeline: Timeline, tolerate_loss: bool) -> Verdict | None:
    """None for a single-process run; else measured = workers lost, threshold 0."""
    events = timeline.harness_events()
    joined = _names(events, EventKind.WORKER_JOINED)
    if not joined:
        return None
    lost_rows = events[events["kind"] == EventKind.WORKER_LOST]
    lost = _names(events, EventKind.WORKER_LOST)
    origin = anchors_of(timeline).origin_ms
    evidence = tuple(
        Evidence(int(t_ms), f"worker {name} lost{_offset(int(t_ms), origin)}: {message}")
        for t_ms, name, message in zip(
            lost_rows["t_ms"], lost_rows["name"], lost_rows["message"], strict=True
        )
    )
    per_worker = _requests_per_worker(timeline.requests, joined)
    ok = not lost or tolerate_loss
    return Verdict(
        id=WORKERS_ID,
        kind=WORKERS_ID,
        status=Status.PASS if ok else Status.FAIL,
        measured=float(len(lost)),
        threshold=0.0,
        window="run",
        message=_message(joined, lost, per_worker, tolerate_loss),
        unit="workers lost",
        evidence=evidence,
    )


def _names(events: pd.DataFrame, kind: EventKind) -> list[str]:
    """Distinct event names of ``kind``, in order of first appearance."""
    names = events.loc[events["kind"] == kind, "name"]
    return list(dict.fromkeys(str(n) for n in names))


def _requests_per_worker(requests: pd.DataFrame, workers: list[str]) -> dict[str, int]:
    if not len(requests):
        return dict.fromkeys(workers, 0)
    counts = requests.groupby("worker")["requests"].sum()
    return {w: int(counts.get(w, 0)) for w in workers}


def _offset(t_ms: int, origin_ms: int | None) -> str:
    return "" if origin_ms is None else f" at {(t_ms - origin_ms) / 1000:.1f} s"


def _message(joined: list[str], lost: list[str], per_worker: dict[str, int], tolerate: bool) -> str:
    sent = "; ".join(f"{w}: {count(n)} requests" for w, n in per_worker.items())
    if not lost:
        return f"all {plural(len(joined), 'worker')} reported to the end ({sent})"
    names = ", ".join(lost)
    head = f"{len(lost)} of {plural(len(joined), 'worker')} lost mid-run ({names}; {sent})"
    if tolerate:
        return f"{head}: tolerated ({TOLERATE}); the load after the loss was smaller"
    return (
        f"{head}: the load was smaller than declared and the lost worker's last seconds "
        f"were never reported; restart it or set {TOLERATE} to accept this"
    )
