"""Object histories: the states a Deployment, an HPA, a Service or a pod went through.

Pure: selects rows of the Kubernetes tables (``replicas``, ``endpoints``, ``pods``); no
clock reads, no logging, no I/O.

These tables hold one row at every change, so the state at an instant is the last row at
or before it. ``in_force`` gives the states a window saw: the row in force at its start
(moved to the start) and the rows inside it, each with ``until_ms``, when the next one
replaced it (or the window ended).

The ``replicas`` table names no HPA target; an HPA is taken to scale the Deployment of its
own name, as the manifests in ``deploy/`` do (``order`` scales ``order``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


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
