"""Why a rollout never completed, from its new pods' own status and Events.

Pure: reads the ``events`` and ``pods`` tables only; no clock reads, no logging, no I/O.

What an SRE reads with ``kubectl describe`` on the new pods and the Deployment, in the order
the causes are looked for (the first found is the diagnosis; a later one is usually its
consequence):

1. image cannot be pulled: kubelet Events ``Failed`` ``Failed to pull image "x": ...``,
   ``Error: ErrImagePull`` / ``Error: ImagePullBackOff``, ``BackOff`` ``Back-off pulling
   image``;
2. container crashing: ``BackOff`` ``Back-off restarting failed container``, with the last
   exit code and the tail of its log when the pods table recorded them (a ``restarted``
   row: ``last_exit_code``, ``last_message``);
3. Pending for capacity: scheduler Event ``FailedScheduling`` (``0/3 nodes are available:
   3 Insufficient cpu.``);
4. readiness probe failing: ``Unhealthy`` ``Readiness probe failed: ...`` (its last message);
5. progress deadline exceeded: the rollout's ``action_failed`` says the Deployment reports
   ``Progressing=False`` ``ProgressDeadlineExceeded``.

The new pods are those of the Deployment (owner ``<deployment>-<hash>``) first seen during
the rollout; Kubernetes Events count when they name one of them (``Pod/<name>``) and fall
inside the rollout. Without such evidence there is no diagnosis: it is never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from slagate.sla.formatting import plural
from slagate.sla.rollout_spans import RolloutSpan
from slagate.sla.verdict import Evidence
from slagate.timeline import EventKind, EventSource, PodTransition, Timeline

PODS_NAMED = 3
LOG_TAIL_CHARS = 200
DEADLINE_TEXT = "exceeded its progress deadline"


@dataclass(frozen=True)
class StuckCause:
    """The diagnosis of a stuck rollout: a one-line ``text`` and the Events behind it."""

    text: str
    evidence: tuple[Evidence, ...]


def stuck_cause(rollout: RolloutSpan, timeline: Timeline, until_ms: int) -> StuckCause | None:
    """Why ``rollout`` (which never completed) was stuck up to ``until_ms``, or None."""
    deployment = rollout.deployment or ""
    pods = _new_pods(timeline.pods, deployment, rollout.start_ms, until_ms)
    events = _pod_events(timeline.events, pods, rollout.start_ms, until_ms)
    for find in (_image_pull, _crash_loop, _capacity, _readiness):
        cause = find(events, timeline.pods)
        if cause is not None:
            return cause
    return _deadline(rollout, timeline.harness_events())


def _new_pods(pods: pd.DataFrame, deployment: str, start_ms: int, until_ms: int) -> list[str]:
    added = pods[
        (pods["transition"] == PodTransition.ADDED) & pods["t_ms"].between(start_ms, until_ms)
    ]
    owners = added["owner"].fillna("").str.rsplit("-", n=1).str[0]
    return sorted(set(added.loc[owners == deployment, "name"]))


def _pod_events(
    events: pd.DataFrame, pods: Sequence[str], start_ms: int, until_ms: int
) -> pd.DataFrame:
    names = [f"Pod/{p}" for p in pods]
    chosen = events[
        (events["source"] == EventSource.KUBERNETES)
        & events["name"].isin(names)
        & events["t_ms"].between(start_ms, until_ms)
    ]
    return chosen.sort_values("t_ms", kind="stable")


def _image_pull(events: pd.DataFrame, pods: pd.DataFrame) -> StuckCause | None:
    messages = events["message"].fillna("")
    pulls = events[
        messages.str.startswith("Failed to pull image")
        | messages.isin(["Error: ErrImagePull", "Error: ImagePullBackOff"])
        | messages.str.startswith("Back-off pulling image")
    ]
    if pulls.empty:
        return None
    backing_off = (
        pulls["message"].isin(["Error: ImagePullBackOff"]).any()
        or pulls["message"].str.startswith("Back-off pulling image").any()
    )
    reason = "ImagePullBackOff" if backing_off else "ErrImagePull"
    detail = pulls[pulls["message"].str.startswith("Failed to pull image")]
    shown = detail if not detail.empty else pulls
    last = shown.iloc[-1]
    text = f"image cannot be pulled ({reason}) on {_named(pulls)}: {last['message']}"
    return StuckCause(text, _evidence(shown))


def _crash_loop(events: pd.DataFrame, pods: pd.DataFrame) -> StuckCause | None:
    crashes = _events(events, "BackOff", "Back-off restarting failed container")
    if crashes.empty:
        return None
    text = f"container crashing (CrashLoopBackOff) on {_named(crashes)}"
    exit_text = _last_exit(pods, [n.partition("/")[2] for n in crashes["name"]])
    return StuckCause(text + (f": {exit_text}" if exit_text else ""), _evidence(crashes))


def _events(events: pd.DataFrame, kind: str, message_prefix: str) -> pd.DataFrame:
    """The Events of ``kind`` whose message starts with ``message_prefix``."""
    starts = events["message"].fillna("").str.startswith(message_prefix)
    return events[(events["kind"] == kind) & starts]


def _last_exit(pods: pd.DataFrame, names: Sequence[str]) -> str:
    """``last exit code 1, log tail: ...`` from the pods' latest ``restarted`` row."""
    if "last_exit_code" not in pods.columns:
        return ""
    rows = pods[pods["name"].isin(names) & pods["last_exit_code"].notna()]
    if rows.empty:
        return ""
    last = rows.sort_values("t_ms", kind="stable").iloc[-1]
    text = f"last exit code {int(last['last_exit_code'])}"
    message = last.get("last_message")
    if isinstance(message, str) and message.strip():
        flat = " ".join(message.split())
        tail = flat if len(flat) <= LOG_TAIL_CHARS else "..." + flat[3 - LOG_TAIL_CHARS :]
        text += f", log tail: {tail}"
    return text


def _capacity(events: pd.DataFrame, pods: pd.DataFrame) -> StuckCause | None:
    pending = events[events["kind"] == "FailedScheduling"]
    if pending.empty:
        return None
    last = pending.iloc[-1]
    text = f"Pending for capacity (FailedScheduling) on {_named(pending)}: {last['message']}"
    return StuckCause(text, _evidence(pending))


def _readiness(events: pd.DataFrame, pods: pd.DataFrame) -> StuckCause | None:
    failing = _events(events, "Unhealthy", "Readiness probe failed")
    if failing.empty:
        return None
    last = str(failing.iloc[-1]["message"]).partition(":")[2].strip()
    text = f"readiness probe failed on {_named(failing)}: {last}"
    return StuckCause(text, _evidence(failing))


def _deadline(rollout: RolloutSpan, harness: pd.DataFrame) -> StuckCause | None:
    failed = harness[
        (harness["kind"] == EventKind.ACTION_FAILED)
        & (harness["name"] == rollout.name)
        & (harness["t_ms"] >= rollout.start_ms)
        & harness["message"].fillna("").str.contains(DEADLINE_TEXT, regex=False)
    ]
    if failed.empty:
        return None
    first = failed.iloc[0]
    text = f"progress deadline exceeded (ProgressDeadlineExceeded): {first['message']}"
    return StuckCause(text, (Evidence(int(first["t_ms"]), str(first["message"])),))


def _named(events: pd.DataFrame) -> str:
    pods = sorted({str(n).partition("/")[2] for n in events["name"]})
    shown = ", ".join(pods[:PODS_NAMED]) + (", ..." if len(pods) > PODS_NAMED else "")
    return f"{plural(len(pods), 'new pod')} ({shown})"


def _evidence(events: pd.DataFrame) -> tuple[Evidence, ...]:
    """The first and the last of the Events behind a cause."""
    rows = [events.iloc[0]] if len(events) == 1 else [events.iloc[0], events.iloc[-1]]
    return tuple(Evidence(int(r["t_ms"]), f"{r['name']} {r['kind']}: {r['message']}") for r in rows)
