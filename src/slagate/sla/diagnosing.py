"""Diagnosing failed requests: the pod event they followed, and what that points at.

Pure and vectorised over the window's failures; Python only loops over the bursts and the
events that explain their parts. No clock
reads, no logging, no I/O. Two causes are recognised, the classic ways a rolling update
loses requests:

- termination race: requests fail within ``RACE_MS`` after a pod began terminating (pods
  table ``deleting``): it stopped serving before the endpoints and proxies dropped it; a
  preStop delay longer than the propagation delay fixes it.
- unready endpoint: requests fail within ``JOIN_MS`` after a pod joined (pods table
  ``ready``, or its name newly in an endpoints row's ``ready_pods``): traffic reached it before
  it could serve; the readiness probe is missing or too lenient.

Only routing failures count: connection errors (status 0 or unknown) and 5xx; a 4xx is the
application's own answer. Failures at most ``BURST_GAP_MS`` apart form a burst. A burst is
explained by the latest plausible pod event before its first failure whose reach covers it; a
rolling update step (a pod joins, then an old one is deleted) thus explains a burst that
starts after the deletion by the deletion and one that starts between the two by the join.
The failures of the burst within the event's reach are the ones it explains; the rest of a
burst that outlasts that reach is explained the same way from its own first failure, as long
as each part is: a part no event explains leaves the rest of its burst unexplained, so that
pod events during a failure with another cause are not taken for its cause.

Timing alone cannot tell the two causes apart when the deletion follows the join closely; the
pod specs can (pods table ``prestop_s`` and ``readiness_probe``). A deletion is no plausible
cause when the pod's preStop sleep covers the propagation: the data plane's own figure when
the run recorded a sandbox profile (``SandboxProfile.termination_lag_s``: behind an
``aws-alb`` the deregistration propagation, seconds where kube-proxy takes one), else
``COVERING_PRESTOP_S``; a deletion's failures are sought within that lag too, and the
diagnosis then names both figures (``preStop 2 s < aws-alb's deregistration propagation
7 s``). A join is
plausible when the pod has no readiness probe; with one, only when no deletion reaching the
burst is plausible (the probe is then too lenient). Unknown facts (a pod the pods table does
not describe, a run recorded before these columns existed, a preStop hook that is no sleep)
leave the event plausible, so such timelines are judged by timing alone.

The cause explaining the most failures is the diagnosis if it explains at least half of all
the window's failures (``MIN_SHARE``); otherwise there is none. A diagnosis is never guessed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from slagate.sla.formatting import clock, plural, seconds
from slagate.sla.history import pod_names
from slagate.sla.verdict import Evidence, Window
from slagate.timeline import PodTransition
from slagate.timeline.runinfo import SandboxProfile

RACE_MS = 5000  # endpoint propagation takes ms to seconds; preStop sleeps are 5-15 s
# A preStop sleep at least this long is taken to cover the endpoint propagation. One shorter
# than the propagation delay would still race, but the timeline does not record that delay:
# the threshold is a judgement, not a measurement.
COVERING_PRESTOP_S = 1.0
JOIN_MS = 3000
BURST_GAP_MS = 1000
MIN_SHARE = 0.5
PODS_NAMED = 3


class Cause(enum.Enum):
    TERMINATION_RACE = "termination race"
    UNREADY_ENDPOINT = "unready endpoint"


@dataclass(frozen=True)
class Trigger:
    """A pod event failures may follow: a deletion start or a join (epoch ms)."""

    t_ms: int
    pod: str
    cause: Cause
    what: str  # "began terminating", "became ready", "joined the endpoints of order"
    guarded: bool  # the pod's spec guards against the cause: a long preStop sleep, a probe


@dataclass(frozen=True)
class Finding:
    """The failures one trigger explains: how many, the first and the last (epoch ms)."""

    trigger: Trigger
    failed: int
    first_ms: int
    last_ms: int


@dataclass(frozen=True)
class Diagnosis:
    """The likely cause of a window's failed requests: a sentence and its evidence."""

    cause: Cause
    failed: int  # failures the cause explains
    summary: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Lag:
    """How long a terminating pod may still get new requests (seconds), and what that lag
    is called; from the run's sandbox profile, else the generic judgement."""

    seconds: float = COVERING_PRESTOP_S
    name: str | None = None  # "aws-alb's deregistration propagation"; None: not known

    @classmethod
    def of(cls, profile: SandboxProfile | None) -> Lag:
        if profile is None:
            return cls()
        return cls(profile.termination_lag_s, profile.termination_lag_name)

    @property
    def race_reach_ms(self) -> int:
        """How long after a deletion its failures are sought."""
        return max(RACE_MS, int(self.seconds * 1000) + BURST_GAP_MS)


def diagnose(
    failures: pd.DataFrame,
    pods: pd.DataFrame,
    endpoints: pd.DataFrame,
    window: Window,
    profile: SandboxProfile | None = None,
) -> Diagnosis | None:
    """The likely cause of the failures (a failures table slice) in ``window``, if any;
    ``profile``: the sandbox's, when the run recorded one (run.json)."""
    t_ms = failures["t_ms"]
    inside = failures[(t_ms >= window.start_ms) & (t_ms < window.end_ms)]
    routed = np.sort(inside.loc[_routing(inside["status"]), "t_ms"].to_numpy(dtype=np.int64))
    lag = Lag.of(profile)
    triggers = [*_deletions(pods, lag), *_joins(pods, endpoints)]
    if not len(routed) or not triggers:
        return None
    findings = _explain(routed, sorted(triggers, key=lambda t: t.t_ms), lag)
    totals = {cause: sum(f.failed for f in findings if f.trigger.cause is cause) for cause in Cause}
    cause = max(Cause, key=lambda c: totals[c])
    if totals[cause] == 0 or totals[cause] < MIN_SHARE * len(inside):
        return None
    chosen = [f for f in findings if f.trigger.cause is cause]
    summary = _summary(cause, chosen, lag, _prestops(pods))
    return Diagnosis(cause, totals[cause], summary, _evidence(chosen))


def with_diagnosis(
    message: str, evidence: Sequence[Evidence], diagnosis: Diagnosis | None
) -> tuple[str, tuple[Evidence, ...]]:
    """``message`` and ``evidence`` with the likely cause added (first in the evidence)."""
    if diagnosis is None:
        return message, tuple(evidence)
    return f"{message}; likely cause: {diagnosis.summary}", (*diagnosis.evidence, *evidence)


# --- pod events -----------------------------------------------------------------------------


def _deletions(pods: pd.DataFrame, lag: Lag) -> list[Trigger]:
    """Every pod deletion start (pods table ``deleting``)."""
    rows = pods[pods["transition"] == PodTransition.DELETING]
    covered = _covered(pods, lag)
    return [
        Trigger(int(t), str(pod), Cause.TERMINATION_RACE, "began terminating", pod in covered)
        for t, pod in rows[["t_ms", "name"]].itertuples(index=False)
    ]


def _joins(pods: pd.DataFrame, endpoints: pd.DataFrame) -> list[Trigger]:
    """Pods becoming ready, and pods newly among a Service's ready endpoints.

    An endpoints row is compared with the previous row of its Service; the first row of a
    Service is the state the watch began with, not a join.
    """
    ready = pods["ready"].fillna(False).astype(bool)
    became = pods[pods["transition"].isin((PodTransition.ADDED, PodTransition.READY)) & ready]
    probed = _probed(pods)
    found = [
        Trigger(int(t), str(pod), Cause.UNREADY_ENDPOINT, "became ready", pod in probed)
        for t, pod in became[["t_ms", "name"]].itertuples(index=False)
    ]
    for service, rows in endpoints.sort_values("t_ms", kind="stable").groupby("service"):
        what = f"joined the endpoints of {service}"
        sets = [pod_names(p) for p in rows["ready_pods"]]
        for t, old, new in zip(rows["t_ms"].iloc[1:], sets[:-1], sets[1:], strict=True):
            found += [
                Trigger(int(t), pod, Cause.UNREADY_ENDPOINT, what, pod in probed)
                for pod in sorted(new - old)
            ]
    return found


def _covered(pods: pd.DataFrame, lag: Lag) -> set[str]:
    """Pods whose preStop sleep covers the propagation (NaN or null: unknown, not covered)."""
    if "prestop_s" not in pods:
        return set()
    return set(pods.loc[pods["prestop_s"] >= lag.seconds, "name"])


def _prestops(pods: pd.DataFrame) -> dict[str, float]:
    """Each pod's preStop sleep in seconds, where the pods table knows it."""
    if "prestop_s" not in pods:
        return {}
    known = pods[pods["prestop_s"].notna()]
    return dict(zip(known["name"].astype(str), known["prestop_s"].astype(float), strict=True))


def _probed(pods: pd.DataFrame) -> set[str]:
    """Pods with a readiness probe (null: unknown, not probed)."""
    if "readiness_probe" not in pods:
        return set()
    return set(pods.loc[pods["readiness_probe"].eq(True), "name"])


def _routing(status: pd.Series) -> pd.Series:
    """Connection errors (0 or unknown) and 5xx: failures of the path to a pod."""
    return status.isna() | (status == 0) | (status >= 500)


# --- explaining -----------------------------------------------------------------------------


def _explain(times: np.ndarray, triggers: list[Trigger], lag: Lag) -> list[Finding]:
    """One finding per trigger that explains (part of) a burst (see the module docstring).

    A burst that outlasts its trigger's reach goes on as a burst of its own from its first
    failure beyond that reach: a rollout without readiness probes fails on for as many
    steps as it has, each step's join explaining its own failures."""
    bursts = np.concatenate(([0], np.cumsum(np.diff(times) > BURST_GAP_MS)))
    explained: dict[Trigger, list[np.ndarray]] = {}
    for burst in np.unique(bursts):
        members = times[bursts == burst]
        while len(members):
            trigger = _latest_plausible(triggers, int(members[0]), lag)
            if trigger is None:  # a part no event explains: the rest is not guessed at
                break
            reached = members - trigger.t_ms <= _reach(trigger.cause, lag)
            explained.setdefault(trigger, []).append(members[reached])
            members = members[~reached]
    return [
        Finding(trigger, int(sum(len(h) for h in hits)), int(hits[0][0]), int(hits[-1][-1]))
        for trigger, hits in explained.items()
    ]


def _latest_plausible(triggers: list[Trigger], t_ms: int, lag: Lag) -> Trigger | None:
    """The latest trigger reaching ``t_ms`` that the pod specs leave plausible: an unguarded
    one, or a probed join when no unguarded deletion reaches ``t_ms``."""
    reaching = [t for t in triggers if 0 <= t_ms - t.t_ms <= _reach(t.cause, lag)]
    racing = any(t.cause is Cause.TERMINATION_RACE and not t.guarded for t in reaching)
    plausible = [
        t for t in reaching if not t.guarded or (t.cause is Cause.UNREADY_ENDPOINT and not racing)
    ]
    return plausible[-1] if plausible else None


def _reach(cause: Cause, lag: Lag) -> int:
    return lag.race_reach_ms if cause is Cause.TERMINATION_RACE else JOIN_MS


# --- words ----------------------------------------------------------------------------------


def _summary(cause: Cause, findings: list[Finding], lag: Lag, prestops: dict[str, float]) -> str:
    failed = plural(sum(f.failed for f in findings), "request")
    within = seconds(max(f.last_ms - f.trigger.t_ms for f in findings) / 1000)
    first = min(findings, key=lambda f: f.trigger.t_ms).trigger
    pods = list(dict.fromkeys(f.trigger.pod for f in sorted(findings, key=_trigger_time)))
    at = f"{clock(first.t_ms)} UTC"
    if cause is Cause.TERMINATION_RACE:
        who = f"pod {first.pod}" if len(pods) == 1 else f"{len(pods)} pods"
        when = f"({at})" if len(pods) == 1 else f"(first {first.pod} at {at})"
        them = "the pod" if len(pods) == 1 else "the pods"
        return (
            f"{failed} failed within {within} after {who} began terminating {when}: {them} "
            f"stopped serving before endpoints were updated{_race_reason(pods, lag, prestops)}"
            "; add a preStop delay longer than the propagation delay"
            + (f" ({lag.name}, {seconds(lag.seconds)})" if lag.name else "")
        )
    if len(pods) == 1:
        return (
            f"requests reached pod {first.pod} before it was ready: the readiness probe is "
            f"missing or too lenient ({failed} failed within {within} after it {first.what} "
            f"at {at})"
        )
    return (
        f"requests reached pods {_listed(pods)} before they were ready: the readiness probe "
        f"is missing or too lenient ({failed} failed within {within} after they joined, the "
        f"first at {at})"
    )


def _race_reason(pods: list[str], lag: Lag, prestops: dict[str, float]) -> str:
    """`` (preStop 2 s < aws-alb's deregistration propagation 7 s)`` when both are known."""
    known = [prestops[pod] for pod in pods if pod in prestops]
    if lag.name is None or not known:
        return ""
    shortest = min(known)
    said = seconds(shortest) if shortest > 0 else "none"
    return f" (preStop {said} < {lag.name} {seconds(lag.seconds)})"


def _evidence(findings: list[Finding]) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            f.trigger.t_ms,
            f"pod {f.trigger.pod} {f.trigger.what}; {plural(f.failed, 'request')} failed in "
            f"the next {seconds((f.last_ms - f.trigger.t_ms) / 1000)} "
            f"({clock(f.first_ms)}-{clock(f.last_ms)} UTC)",
        )
        for f in sorted(findings, key=_trigger_time)
    )


def _trigger_time(finding: Finding) -> int:
    return finding.trigger.t_ms


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:PODS_NAMED])
    rest = len(names) - PODS_NAMED
    return f"{shown} and {rest} more" if rest > 0 else shown
