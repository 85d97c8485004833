"""What the cluster-side evaluators share: their spec type, verdicts, and states over time.

Pure: builds verdicts from the values given and selects rows of the Kubernetes tables; no
clock reads, no logging, no I/O. No data is never a pass: a window that never began, or a
Deployment or Service with no recorded state, is ``no-data``.

The Kubernetes tables (``replicas``, ``endpoints``) hold one row at every change, so the
state at an instant is the last row at or before it. ``in_force`` gives the states a window
saw: the row in force at its start (moved to the start) and the rows inside it, each with
``until_ms``, when the next one replaced it (or the window ended).

The ``replicas`` table names no HPA target; an HPA is taken to scale the Deployment of its
own name, as the manifests in ``deploy/`` do (``order`` scales ``order``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from slagate.scenario import (
    FlappingSla,
    MaxReplicasSla,
    NoLostWritesSla,
    ReadyEndpointsSla,
    RolloutDurationSla,
    ScaleInSla,
    ScaleOutSla,
)
from slagate.sla.building import status_of, verdict
from slagate.sla.formatting import count
from slagate.sla.verdict import Evidence, Status, Verdict, Window

KubeSla = (
    ReadyEndpointsSla
    | RolloutDurationSla
    | ScaleOutSla
    | MaxReplicasSla
    | ScaleInSla
    | FlappingSla
    | NoLostWritesSla
)
DEPLOYMENT = "Deployment"
HPA = "HorizontalPodAutoscaler"
EVIDENCE_LINES = 20  # at most this many state lines per verdict, then "... N more"


# --- verdicts -------------------------------------------------------------------------------


def judged(
    spec: KubeSla,
    ok: bool,
    measured: float,
    window: Window,
    message: str,
    evidence: Sequence[Evidence] = (),
) -> Verdict:
    """A pass or fail verdict judged in ``window`` (evidence is for failures only)."""
    return verdict(spec, status_of(ok), measured, window.label, message, evidence)


def no_data(spec: KubeSla, window: Window, what: str) -> Verdict:
    """No-data: ``what`` (e.g. "no replicas recorded for Deployment order") in ``window``."""
    message = f"no data: {what} in {window.label}"
    return verdict(spec, Status.NO_DATA, None, window.label, message)


# --- states over time -----------------------------------------------------------------------


def replica_rows(replicas: pd.DataFrame, kind: str, name: str) -> pd.DataFrame:
    """``kind``/``name`` rows of the replicas table in time order, deletions left out."""
    mask = (replicas["kind"] == kind) & (replicas["name"] == name)
    mask &= ~replicas["deleted"].fillna(False).astype(bool)
    return replicas[mask].sort_values("t_ms", kind="stable")


def in_force(rows: pd.DataFrame, start_ms: int, end_ms: int) -> pd.DataFrame:
    """The states ``rows`` (time ordered) held in ``[start_ms, end_ms)``, with ``until_ms``.

    The last row before ``start_ms`` counts from ``start_ms`` unless a row replaced it at
    exactly ``start_ms``.
    """
    t = rows["t_ms"]
    inside = rows[(t >= start_ms) & (t < end_ms)]
    before = rows[t < start_ms].tail(1)
    if not before.empty and (inside.empty or int(inside["t_ms"].iloc[0]) > start_ms):
        inside = pd.concat([before.assign(t_ms=start_ms), inside])
    return inside.assign(until_ms=inside["t_ms"].shift(-1, fill_value=end_ms))


def first_at(states: pd.DataFrame, mask: pd.Series) -> int | None:
    """When the first state matching ``mask`` began (``None`` if none did)."""
    hits = states.loc[mask.fillna(False).astype(bool), "t_ms"]
    return int(hits.iloc[0]) if len(hits) else None


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a (small) frame as dicts, for evidence lines."""
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]


def pod_names(column: object) -> set[str]:
    """The pods an endpoints row lists (``"a,b"``; empty or null: none)."""
    return {p for p in column.split(",") if p} if isinstance(column, str) else set()


def pods_of(pods: pd.DataFrame, deployment: str) -> pd.DataFrame:
    """Rows of the pods table whose ReplicaSet (``<deployment>-<hash>``) is ``deployment``'s."""
    owners = pods["owner"].fillna("").str.rsplit("-", n=1).str[0]
    return pods[owners == deployment].sort_values("t_ms", kind="stable")


# --- words ----------------------------------------------------------------------------------


def seconds(value: float, threshold: float | None = None) -> str:
    """``41.2 s``; to the millisecond when one decimal would hide which side of
    ``threshold`` the value is on (30.04 s never prints as "30.0 s > 30 s")."""
    text = f"{value:.1f}"
    if threshold is not None and np.sign(float(text) - threshold) != np.sign(value - threshold):
        text = f"{value:.3f}"
    return f"{text} s"


def plural(n: int, noun: str) -> str:
    """``1 span``, ``2 spans``, ``1,204 requests``."""
    return f"{count(n)} {noun}{'' if n == 1 else 's'}"


def capped(lines: Sequence[Evidence], what: str, limit: int = EVIDENCE_LINES) -> list[Evidence]:
    """The first ``limit`` lines, then one saying how many more ``what`` were left out."""
    shown = list(lines[:limit])
    rest = len(lines) - len(shown)
    if rest > 0:
        shown.append(Evidence(lines[limit].t_ms, f"... {count(rest)} more {what} not listed"))
    return shown


def number_or_dash(value: Any) -> str:
    """A nullable count or percentage as text: ``3``, ``45.5``, ``-`` when null."""
    return "-" if value is None or pd.isna(value) else f"{float(value):g}"
