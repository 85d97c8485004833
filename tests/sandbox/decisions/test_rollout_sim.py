"""Step-by-step rollouts driven only by the pure controller functions.

A tiny in-memory cluster: each 1 s tick recomputes ReplicaSet status from pods, runs one
Deployment sync, applies its writes, lets each ReplicaSet create or delete pods, and
advances a fake kubelet (pods turn Ready ``READY_AFTER_S`` after creation; deleted pods
vanish ``GRACE_S`` later). Invariants are checked after every tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from slagate.sandbox.decisions.conditions import find_condition
from slagate.sandbox.decisions.deployment_status import rollout_state
from slagate.sandbox.decisions.deployments import (
    DeploymentStatus,
    DeploymentView,
    ReplicaSetView,
    StrategyType,
)
from slagate.sandbox.decisions.fenceposts import IntOrPercent
from slagate.sandbox.decisions.replicaset import (
    PodView,
    is_available,
    plan_replica_set,
    replica_set_counts,
)
from slagate.sandbox.decisions.rollout import DeploymentSync, sync_deployment

READY_AFTER_S = 3.0
GRACE_S = 2.0
START = 1000.0


@dataclass
class Pod:
    view: PodView
    owner: str
    gone_at_s: float | None = None


@dataclass
class Cluster:
    """Mutable test double for the object store; the controllers under test stay pure."""

    d: DeploymentView
    rss: dict[str, ReplicaSetView]
    pods: list[Pod] = field(default_factory=list)
    now_s: float = START
    serial: int = 0
    ready_after_s: float = READY_AFTER_S

    def tick(self) -> DeploymentSync:
        self.refresh_rs_status()
        sync = sync_deployment(self.d, tuple(self.rss.values()), self.now_s, self.old_alive())
        self.apply(sync)
        self.manage_pods()
        self.refresh_rs_status()
        return sync

    def apply(self, sync: DeploymentSync) -> None:
        for write in sync.writes:
            rs = self.rss.get(write.name) or ReplicaSetView(
                write.name, write.template_hash, self.now_s, 0
            )
            self.rss[write.name] = replace(
                rs,
                spec_replicas=write.replicas,
                revision=write.revision,
                desired_replicas=write.desired_replicas,
                max_replicas=write.max_replicas,
            )
        self.d = replace(self.d, status=sync.status)

    def manage_pods(self) -> None:
        for rs in self.rss.values():
            owned = [p.view for p in self.pods if p.owner == rs.name]
            plan = plan_replica_set(rs.spec_replicas, owned)
            for _ in range(plan.create):
                self.serial += 1
                view = PodView(f"{rs.name}-{self.serial}", self.now_s)
                self.pods.append(Pod(view, rs.name))
            for pod in self.pods:
                if pod.view.name in plan.delete:
                    pod.view = replace(pod.view, deleting=True)
                    pod.gone_at_s = self.now_s + GRACE_S

    def advance(self, seconds: float = 1.0) -> None:
        self.now_s += seconds
        self.pods = [p for p in self.pods if p.gone_at_s is None or p.gone_at_s > self.now_s]
        for pod in self.pods:
            ready_at = pod.view.created_s + self.ready_after_s
            if not pod.view.ready and not pod.view.deleting and ready_at <= self.now_s:
                pod.view = replace(pod.view, ready=True, ready_since_s=ready_at)

    def refresh_rs_status(self) -> None:
        for name, rs in self.rss.items():
            owned = [p.view for p in self.pods if p.owner == name]
            counts = replica_set_counts(owned, self.d.min_ready_s, self.now_s)
            self.rss[name] = replace(
                rs,
                replicas=counts.replicas,
                ready_replicas=counts.ready,
                available_replicas=counts.available,
            )

    def old_alive(self) -> int:
        old = {n for n, rs in self.rss.items() if rs.template_hash != self.d.template_hash}
        return sum(p.owner in old for p in self.pods)

    def active_pods(self) -> int:
        return sum(not p.view.deleting for p in self.pods)

    def available_pods(self) -> int:
        return sum(
            is_available(p.view, self.d.min_ready_s, self.now_s)
            for p in self.pods
            if not p.view.deleting
        )


def steady_cluster(
    replicas: int,
    surge: IntOrPercent = "25%",
    unavailable: IntOrPercent = "25%",
    strategy: StrategyType = StrategyType.ROLLING_UPDATE,
    min_ready_s: int = 0,
) -> Cluster:
    """A fully rolled-out revision 1 whose template was just changed (generation 2)."""
    old = ReplicaSetView("web-old", "old", 0.0, replicas, revision=1, desired_replicas=replicas)
    d = DeploymentView(
        "web",
        replicas,
        "new",
        generation=2,
        strategy=strategy,
        max_surge=surge,
        max_unavailable=unavailable,
        min_ready_s=min_ready_s,
        status=DeploymentStatus(1, replicas, replicas, replicas, replicas, 0),
    )
    pods = [
        Pod(PodView(f"web-old-{i}", 0.0, ready=True, ready_since_s=1.0), "web-old")
        for i in range(replicas)
    ]
    return Cluster(d, {"web-old": old}, pods)


def run_until_done(cluster: Cluster, limit: int = 200) -> list[tuple[int, int]]:
    """Tick until kubectl would say done; return (active, available) after every tick."""
    seen = []
    for _ in range(limit):
        cluster.tick()
        seen.append((cluster.active_pods(), cluster.available_pods()))
        state = rollout_state("web", cluster.d.generation, cluster.d.replicas, cluster.d.status)
        if state.done:
            return seen
        cluster.advance()
    raise AssertionError(f"rollout not complete after {limit} ticks: {cluster.d.status}")


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "min_ready_s", "bounds"),
    [
        # 3 replicas, 25%: surge ceil(0.75) = 1, unavailable floor(0.75) = 0
        pytest.param(3, "25%", "25%", 0, (4, 3), id="3-replicas-1-0"),
        # 4 replicas, 25%: 1 / 1
        pytest.param(4, "25%", "25%", 0, (5, 3), id="4-replicas-1-1"),
        # 10 replicas, 25%: ceil(2.5) = 3 / floor(2.5) = 2
        pytest.param(10, "25%", "25%", 0, (13, 8), id="10-replicas-3-2"),
        # 1 replica, 25%: surge ceil(0.25) = 1, unavailable 0
        pytest.param(1, "25%", "25%", 0, (2, 1), id="1-replica-1-0"),
        # no surge, 1 unavailable: replace in place
        pytest.param(3, 0, 1, 0, (3, 2), id="no-surge"),
        # minReadySeconds 5 delays availability, not the invariants
        pytest.param(3, "25%", "25%", 5, (4, 3), id="min-ready-5"),
    ],
)
def test_rolling_update_keeps_invariants_and_completes(
    replicas: int,
    surge: IntOrPercent,
    unavailable: IntOrPercent,
    min_ready_s: int,
    bounds: tuple[int, int],
) -> None:
    cluster = steady_cluster(replicas, surge, unavailable, min_ready_s=min_ready_s)
    most, fewest_available = bounds

    seen = run_until_done(cluster)

    assert max(active for active, _ in seen) == most
    assert min(available for _, available in seen) >= fewest_available
    assert {p.owner for p in cluster.pods if not p.view.deleting} == {"web-new"}
    assert cluster.rss["web-old"].spec_replicas == 0
    assert cluster.rss["web-new"].revision == 2


def test_three_replica_rollout_step_by_step() -> None:
    # 3 replicas, surge 1, unavailable 0; pods turn Ready 3 s after creation
    cluster = steady_cluster(3)
    spec_sizes = []

    for _ in range(30):
        sync = cluster.tick()
        spec_sizes.append(
            (cluster.rss["web-old"].spec_replicas, sync.replica_sets[-1].spec_replicas)
        )
        if rollout_state("web", 2, 3, cluster.d.status).done:
            break
        cluster.advance()

    # (old, new) spec.replicas per tick: one new pod, 3 s until it is Ready, one old pod
    # down, then the next new pod on the following sync (one step per sync, as upstream).
    # The last tick only lets the status catch up with the ReplicaSets.
    assert spec_sizes == [
        (3, 1), (3, 1), (3, 1), (2, 1), (2, 2), (2, 2), (2, 2),
        (1, 2), (1, 3), (1, 3), (1, 3), (0, 3), (0, 3),
    ]  # fmt: skip


def test_rollout_conditions_over_time() -> None:
    cluster = steady_cluster(3)

    reasons = []
    while not rollout_state("web", 2, 3, cluster.d.status).done:
        cluster.tick()
        progressing = find_condition(cluster.d.status.conditions, "Progressing")
        assert progressing is not None
        reasons.append(progressing.reason)
        cluster.advance()

    assert reasons[0] == "NewReplicaSetCreated"
    assert "ReplicaSetUpdated" in reasons
    assert reasons[-1] == "NewReplicaSetAvailable"


def test_stuck_rollout_exceeds_progress_deadline() -> None:
    # new pods never turn Ready. The second sync sees the new pod (progress, so
    # lastUpdateTime = 1001); after 600 s more without progress the condition flips
    cluster = steady_cluster(3)
    cluster.ready_after_s = 10_000.0

    cluster.tick()
    cluster.advance(1.0)
    cluster.tick()
    cluster.advance(600.0)
    cluster.tick()
    at_deadline = rollout_state("web", 2, 3, cluster.d.status)
    cluster.advance(1.0)
    cluster.tick()
    after = rollout_state("web", 2, 3, cluster.d.status)

    assert (at_deadline.done, at_deadline.failed) == (False, False)
    assert (after.done, after.failed) == (False, True)
    assert after.message == 'deployment "web" exceeded its progress deadline'


def test_recreate_waits_for_old_pods_to_be_gone() -> None:
    cluster = steady_cluster(3, strategy=StrategyType.RECREATE)
    timeline = []

    for _ in range(20):
        cluster.tick()
        new = cluster.rss.get("web-new")
        timeline.append((cluster.rss["web-old"].spec_replicas, new.spec_replicas if new else None))
        if rollout_state("web", 2, 3, cluster.d.status).done:
            break
        cluster.advance()

    # old scaled to 0 at once; the new RS appears only once the 3 deleted pods are gone
    # (grace 2 s), then full size at once; Ready 3 s later
    assert timeline == [(0, None), (0, None), (0, 3), (0, 3), (0, 3), (0, 3)]


def test_hpa_scale_during_rollout_is_proportional() -> None:
    # first tick of a 10-replica rollout (surge 3, unavailable 2): new RS created at 3 and
    # old scaled 10 -> 8, both annotated max-replicas 13. The HPA sets 20 (surge 5):
    # 25 - 11 = 14 to add, largest first: old round(8 * 25 / 13) - 8 = 15 - 8 = 7,
    # new round(3 * 25 / 13) - 3 = 6 - 3 = 3; leftover 14 - 10 = 4 goes to the largest:
    # old 8 + 7 + 4 = 19, new 6
    cluster = steady_cluster(10)
    cluster.tick()
    cluster.d = replace(cluster.d, replicas=20)

    sync = cluster.tick()

    sizes = {rs.name: rs.spec_replicas for rs in sync.replica_sets}
    assert sizes == {"web-old": 19, "web-new": 6}
    assert {w.desired_replicas for w in sync.writes} == {20}
