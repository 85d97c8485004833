"""Replica-count SLAs: never above ``max`` replicas, and at most ``max_changes`` reversals.

Pure: ``evaluate_*(spec, timeline, window) -> Verdict`` reads only the timeline; no clients,
no clock reads, no logging, no I/O. The ``replicas`` table holds a row at every change; the
state in force at the window's start counts (``history.in_force``).

- ``max_replicas``: the highest desired count of the Deployment (``spec.replicas``) and of
  its HPA (``status.desiredReplicas``) in the window.
- ``flapping``: how often the Deployment's desired count turned around: 1 -> 3 -> 5 -> 2 -> 4
  goes up, up, down, up: 2 reversals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from slagate.scenario import FlappingSla, MaxReplicasSla
from slagate.sla.building import judged, no_data, window_never_began
from slagate.sla.formatting import capped, clock, count, number_or_dash, seconds, versus
from slagate.sla.history import in_force, records, replica_rows
from slagate.sla.verdict import Evidence, Verdict, Window
from slagate.timeline import AVERAGE_VALUE, ReplicaKind, Timeline

SEQUENCE_SHOWN = 20  # desired counts a flapping message spells out


def evaluate_max_replicas(
    spec: MaxReplicasSla, timeline: Timeline, window: Window | None
) -> Verdict:
    """The highest desired replica count (Deployment or HPA) at most ``spec.max``."""
    if window is None:
        return window_never_began(spec)
    states = pd.concat(
        [
            in_force(replica_rows(timeline.replicas, kind, spec.deployment), *_span(window))
            for kind in (ReplicaKind.DEPLOYMENT, ReplicaKind.HPA)
        ]
    )
    states = states[states["desired"].notna()]
    if states.empty:
        return no_data(spec, window, f"no replicas recorded for Deployment {spec.deployment}")
    peak = int(states["desired"].max())
    ok = peak <= spec.max
    message = (
        f"{spec.deployment} desired replicas max {count(peak)} {versus(ok)} "
        f"{count(spec.max)} in {window.label}"
    )
    if ok:
        return judged(spec, ok, float(peak), window, message)
    above = states[states["desired"] > spec.max].sort_values("t_ms", kind="stable")
    message += ": " + ", ".join(_time_above(above, spec.max))
    evidence = capped([_above_evidence(row, spec.max) for row in records(above)], "states")
    return judged(spec, ok, float(peak), window, message, evidence)


def evaluate_flapping(spec: FlappingSla, timeline: Timeline, window: Window | None) -> Verdict:
    """Reversals of the Deployment's desired replica count at most ``spec.max_changes``."""
    if window is None:
        return window_never_began(spec)
    rows = replica_rows(timeline.replicas, ReplicaKind.DEPLOYMENT, spec.deployment)
    states = in_force(rows, *_span(window))
    states = states[states["desired"].notna()]
    if states.empty:
        return no_data(spec, window, f"no replicas recorded for Deployment {spec.deployment}")
    desired = states["desired"].to_numpy(dtype=np.int64)
    changed = np.concatenate(([True], desired[1:] != desired[:-1]))
    times, values = states["t_ms"].to_numpy()[changed], desired[changed]
    up = values[1:] > values[:-1]
    reversal = np.zeros(len(up), dtype=bool)
    reversal[1:] = up[1:] != up[:-1]
    reversals = int(reversal.sum())
    ok = reversals <= spec.max_changes
    message = (
        f"{spec.deployment} scaling reversals {count(reversals)} {versus(ok)} "
        f"{count(spec.max_changes)} in {window.label}: desired {_sequence(values)}"
    )
    if ok:
        return judged(spec, ok, float(reversals), window, message)
    evidence = [
        Evidence(int(t), f"desired {a} -> {b} ({'up' if u else 'down'}{', reversal' if r else ''})")
        for t, a, b, u, r in zip(times[1:], values[:-1], values[1:], up, reversal, strict=True)
    ]
    return judged(spec, ok, float(reversals), window, message, capped(evidence, "changes"))


def hpa_text(row: dict[str, Any]) -> str:
    """``HPA order: CPU 45% of request (target 15%), desired 3, current 1``; the metric
    is the one the row records (``metric_name``), CPU in rows without one."""
    return (
        f"HPA {row['name']}: {metric_text(row.get('metric_name'))} "
        f"{number_or_dash(row['metric_value'])}% {metric_basis(row.get('metric_name'))} "
        f"(target {number_or_dash(row['metric_target'])}%), desired "
        f"{number_or_dash(row['desired'])}, current {number_or_dash(row['current'])}"
    )


def metric_text(name: Any) -> str:
    """A ``replicas`` row's ``metric_name`` for a reader: ``CPU``, ``memory``."""
    base = name.removesuffix(AVERAGE_VALUE) if isinstance(name, str) else ""
    return "CPU" if base in ("", "cpu") else base


def metric_basis(name: Any) -> str:
    """What the row's percents are of: the request, or the target's average value."""
    if isinstance(name, str) and name.endswith(AVERAGE_VALUE):
        return "of the target average value"
    return "of request"


def _span(window: Window) -> tuple[int, int]:
    return window.start_ms, window.end_ms


def _time_above(above: pd.DataFrame, maximum: int) -> list[str]:
    """``Deployment above 5 for 12.0 s`` for each kind that went above."""
    spans = (above["until_ms"] - above["t_ms"]).groupby(above["kind"]).sum()
    label: dict[str, str] = {ReplicaKind.DEPLOYMENT: "Deployment", ReplicaKind.HPA: "HPA"}
    return [
        f"{label[str(kind)]} above {count(maximum)} for {seconds(int(ms) / 1000)}"
        for kind, ms in spans.items()
    ]


def _above_evidence(row: dict[str, Any], maximum: int) -> Evidence:
    until = f"until {clock(int(row['until_ms']))} UTC"
    if row["kind"] == ReplicaKind.HPA:
        text = f"{hpa_text(row)}: desired > {count(maximum)} {until}"
    else:
        text = (
            f"Deployment {row['name']}: desired {number_or_dash(row['desired'])} > "
            f"{count(maximum)} {until}, ready {number_or_dash(row['ready'])}"
        )
    return Evidence(int(row["t_ms"]), text)


def _sequence(values: np.ndarray) -> str:
    shown = " -> ".join(str(int(v)) for v in values[:SEQUENCE_SHOWN])
    rest = len(values) - SEQUENCE_SHOWN
    if len(values) == 1:
        return f"{shown} throughout"
    return f"{shown} -> ... ({count(rest)} more changes)" if rest > 0 else shown
