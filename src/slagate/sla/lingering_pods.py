"""Why a rollout settled late: old pods that lived on long past their preStop.

Pure: ``lingering_cause(rollout, pods)`` reads the ``pods`` table only; no clients, no
clock reads, no logging, no I/O.

A rollout has settled when its old pods are gone. An old pod whose app drains on SIGTERM
is gone soon after its preStop hook; one whose PID 1 never acts on SIGTERM (a ``sh -c``
entrypoint that does not ``exec`` the app, a program without a handler) lives on until
the kubelet's SIGKILL at the end of ``terminationGracePeriodSeconds``. The old pods are
those of the Deployment (owner ``<deployment>-<hash>``) whose deletion began during the
rollout; each one's time past its preStop is ``deleted - deleting - prestop_s`` (an
unknown preStop counts as none). The timeline records neither grace periods nor exit
codes, so the text names what it measured and the likely cause, and only past
``LINGER_S``: a drain longer than that is worth a look in any case.
"""

from __future__ import annotations

import pandas as pd

from slagate.sla.rollout_spans import RolloutSpan
from slagate.timeline import PodTransition

LINGER_S = 5.0
"""Seconds past its preStop from which an old pod's life is named as the cause."""


def lingering_cause(rollout: RolloutSpan, pods: pd.DataFrame) -> str | None:
    """``old pod order-6c-x lived 15.0 s after its deletion, 13.0 s past its 2 s
    preStop: ...``, or None when no old pod of the rollout outlived its preStop by
    ``LINGER_S``."""
    if rollout.settled_ms is None or rollout.deployment is None or pods.empty:
        return None
    owners = pods["owner"].fillna("").str.rsplit("-", n=1).str[0]
    mine = pods[owners == rollout.deployment]
    began = (
        mine[
            (mine["transition"] == PodTransition.DELETING.value)
            & mine["t_ms"].between(rollout.start_ms, rollout.settled_ms)
        ]
        .groupby("name")["t_ms"]
        .min()
    )
    ended = mine[mine["transition"] == PodTransition.DELETED.value].groupby("name")["t_ms"].min()
    lived_s = ((ended - began) / 1000).dropna()
    if lived_s.empty:
        return None
    prestop_s = mine.groupby("name")["prestop_s"].first().reindex(lived_s.index).fillna(0.0)
    past_s = lived_s - prestop_s
    name = str(past_s.idxmax())
    if past_s[name] < LINGER_S:
        return None
    return (
        f"old pod {name} lived {lived_s[name]:.1f} s after its deletion, "
        f"{past_s[name]:.1f} s past its {prestop_s[name]:g} s preStop: it did not exit "
        "on SIGTERM and was most likely SIGKILLed when its grace period ended (is the app "
        "PID 1? a `sh -c` entrypoint without `exec` drops SIGTERM; or its drain is that slow)"
    )
