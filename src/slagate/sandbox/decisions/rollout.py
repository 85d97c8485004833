"""One Deployment sync, as a pure function: which ReplicaSets to create, scale or delete.

``sync_deployment`` is upstream ``syncDeployment`` without the I/O. It finds the new
ReplicaSet (the one whose pod-template-hash matches the template), syncs revisions, then
either scales proportionally (the replica count changed, e.g. by an HPA) or rolls out:

- RollingUpdate: grow the new ReplicaSet by up to ``replicas + surge - sum(spec)``; else
  shrink old ones: first their unhealthy pods, then as far as ``replicas - unavailable``
  available pods allow, oldest ReplicaSet first.
- Recreate: scale all old ReplicaSets to zero, wait until none of their pods is alive
  (terminating ones included), then create or scale the new one to full size.

Like upstream, one sync does one step; the controller loop calls again when ReplicaSets or
pods change. Not modelled: paused Deployments, rollbacks via spec.rollbackTo (removed
upstream), ReplicaFailure conditions, adoption and orphaning by selector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from slagate.sandbox.decisions.conditions import (
    Condition,
    find_condition,
    set_deployment_condition,
)
from slagate.sandbox.decisions.deployment_status import (
    FOUND_NEW_RS,
    NEW_RS_CREATED,
    PROGRESSING,
    calculate_status,
    deployment_complete,
    progressing,
    synced_status,
)
from slagate.sandbox.decisions.deployments import (
    DeploymentStatus,
    DeploymentView,
    ReplicaSetView,
    StrategyType,
)
from slagate.sandbox.decisions.revisions import next_revision, replica_set_name


@dataclass(frozen=True)
class ReplicaSetWrite:
    """Create (``create``) or update one ReplicaSet: spec.replicas and the
    revision / desired-replicas / max-replicas annotations."""

    name: str
    template_hash: str
    replicas: int
    revision: int
    desired_replicas: int | None
    max_replicas: int | None
    create: bool = False


@dataclass(frozen=True)
class DeploymentSync:
    """What one sync decided.

    ``writes``: ReplicaSets to create or update, in order. ``deletes``: old ReplicaSets
    past revisionHistoryLimit. ``replica_sets``: every ReplicaSet as it will be after the
    writes (status unchanged). ``revision``: the Deployment's revision annotation (None
    before a new ReplicaSet exists). ``status``: the Deployment status to write.
    """

    writes: tuple[ReplicaSetWrite, ...]
    deletes: tuple[str, ...]
    replica_sets: tuple[ReplicaSetView, ...]
    new_replica_set: str | None
    revision: int | None
    status: DeploymentStatus


@dataclass(frozen=True)
class _State:
    """The Deployment and its ReplicaSets part-way through a sync."""

    d: DeploymentView
    new: ReplicaSetView | None
    old: tuple[ReplicaSetView, ...]
    writes: tuple[ReplicaSetWrite, ...] = ()

    @property
    def all(self) -> tuple[ReplicaSetView, ...]:
        return (*self.old, self.new) if self.new is not None else self.old


def sync_deployment(
    d: DeploymentView,
    replica_sets: Sequence[ReplicaSetView],
    now_s: float,
    old_pods_alive: int = 0,
) -> DeploymentSync:
    """Decide one Deployment sync at ``now_s`` (seconds); pure.

    ``replica_sets`` are those the Deployment owns. ``old_pods_alive`` counts pods of old
    ReplicaSets not yet Succeeded or Failed, terminating ones included: only Recreate
    reads it, to start new pods after the old ones are gone.
    """
    state = _split(d, replica_sets)
    if _is_scaling_event(state):
        state = _scale_proportionally(_sync_revision(state, now_s, create=False))
        status = calculate_status(state.d, state.all, state.new, now_s)
        return _result(state, status, ())
    if d.strategy is StrategyType.RECREATE:
        return _recreate(state, now_s, old_pods_alive)
    return _rolling(state, now_s)


def _split(d: DeploymentView, replica_sets: Sequence[ReplicaSetView]) -> _State:
    """The new ReplicaSet is the oldest one whose template matches (upstream
    FindNewReplicaSet); every other one is old."""
    ordered = sorted(replica_sets, key=lambda rs: (rs.created_s, rs.name))
    new = next((rs for rs in ordered if rs.template_hash == d.template_hash), None)
    return _State(d, new, tuple(rs for rs in ordered if rs is not new))


def _result(state: _State, status: DeploymentStatus, deletes: tuple[str, ...]) -> DeploymentSync:
    new = state.new
    revision = new.revision if new is not None else None
    name = new.name if new is not None else None
    return DeploymentSync(state.writes, deletes, state.all, name, revision, status)


def _sync_revision(state: _State, now_s: float, create: bool) -> _State:
    """Bump the new ReplicaSet's revision to max(old) + 1, or create it when asked
    (upstream getAllReplicaSetsAndSyncRevision); note it in Progressing."""
    revision = next_revision(rs.revision for rs in state.old)
    if state.new is None:
        return _create_new(state, revision, now_s) if create else state
    state = _note_found(state, now_s)
    if state.new is None or state.new.revision >= revision:
        return state
    bumped = replace(state.new, revision=revision)
    write = _write(bumped, bumped.spec_replicas, bumped.desired_replicas, bumped.max_replicas)
    return replace(state, new=bumped, writes=(*state.writes, write))


def _note_found(state: _State, now_s: float) -> _State:
    """Progressing FoundNewReplicaSet, the first time a deadline-tracked Deployment sees
    its new ReplicaSet without any Progressing condition."""
    d, new = state.d, state.new
    if new is None or d.progress_deadline_s is None:
        return state
    if find_condition(d.status.conditions, PROGRESSING) is not None:
        return state
    condition = progressing(FOUND_NEW_RS, f'Found new replica set "{new.name}"', now_s)
    return replace(state, d=_with_condition(d, condition))


def _create_new(state: _State, revision: int, now_s: float) -> _State:
    """The new ReplicaSet, created already scaled to its first step."""
    d = state.d
    name = replica_set_name(d.name, d.template_hash)
    empty = ReplicaSetView(name, d.template_hash, now_s, 0, revision=revision)
    replicas = new_replica_set_size(d, (*state.old, empty), empty)
    new = replace(empty, spec_replicas=replicas, desired_replicas=d.replicas)
    new = replace(new, max_replicas=d.replicas + d.surge)
    write = replace(_write(new, replicas, d.replicas, d.replicas + d.surge), create=True)
    if d.progress_deadline_s is not None:
        condition = progressing(NEW_RS_CREATED, f'Created new replica set "{name}"', now_s)
        d = _with_condition(d, condition)
    return replace(state, d=d, new=new, writes=(*state.writes, write))


def _with_condition(d: DeploymentView, condition: Condition) -> DeploymentView:
    conditions = set_deployment_condition(d.status.conditions, condition)
    return replace(d, status=replace(d.status, conditions=conditions))


def _write(
    rs: ReplicaSetView, replicas: int, desired: int | None, max_: int | None
) -> ReplicaSetWrite:
    return ReplicaSetWrite(rs.name, rs.template_hash, replicas, rs.revision, desired, max_)


def new_replica_set_size(
    d: DeploymentView, all_rs: Sequence[ReplicaSetView], new: ReplicaSetView
) -> int:
    """The new ReplicaSet's next size (upstream NewRSNewReplicas).

    RollingUpdate: grow by ``min(replicas + surge - sum(spec), replicas - new.spec)`` when
    positive. Recreate: full size at once.
    """
    if d.strategy is StrategyType.RECREATE:
        return d.replicas
    room = d.replicas + d.surge - sum(rs.spec_replicas for rs in all_rs)
    if room <= 0:
        return new.spec_replicas
    return new.spec_replicas + min(room, d.replicas - new.spec_replicas)


def _scale(state: _State, rs: ReplicaSetView, replicas: int) -> _State:
    """Set one ReplicaSet's size, with the annotations upstream writes on every scale."""
    d = state.d
    desired, max_ = d.replicas, d.replicas + d.surge
    if rs.spec_replicas == replicas and (rs.desired_replicas, rs.max_replicas) == (desired, max_):
        return state
    scaled = replace(rs, spec_replicas=replicas, desired_replicas=desired, max_replicas=max_)
    writes = (*state.writes, _write(scaled, replicas, desired, max_))
    if state.new is not None and rs.name == state.new.name:
        return replace(state, new=scaled, writes=writes)
    old = tuple(scaled if o.name == rs.name else o for o in state.old)
    return replace(state, old=old, writes=writes)


def _rolling(state: _State, now_s: float) -> DeploymentSync:
    """One RollingUpdate step (upstream rolloutRolling)."""
    state = _sync_revision(state, now_s, create=True)
    before = len(state.writes)
    state = _reconcile_new(state)
    if len(state.writes) == before:
        state = _reconcile_old(state)
    deletes: tuple[str, ...] = ()
    if len(state.writes) == before and deployment_complete(state.d, state.d.status):
        deletes = history_to_delete(state.old, state.d.revision_history_limit)
    return _result(state, synced_status(state.d, state.all, state.new, now_s), deletes)


def _reconcile_new(state: _State) -> _State:
    """Scale the new ReplicaSet toward ``replicas`` within the surge budget (or down, if
    it is above ``replicas``)."""
    d, new = state.d, state.new
    if new is None or new.spec_replicas == d.replicas:
        return state
    if new.spec_replicas > d.replicas:
        return _scale(state, new, d.replicas)
    size = new_replica_set_size(d, state.all, new)
    return state if size == new.spec_replicas else _scale(state, new, size)


def _reconcile_old(state: _State) -> _State:
    """Scale old ReplicaSets down without going below ``replicas - unavailable``
    available pods (upstream reconcileOldReplicaSets)."""
    d, new = state.d, state.new
    if not sum(rs.spec_replicas for rs in state.old):
        return state
    min_available = d.replicas - d.unavailable
    new_unavailable = new.spec_replicas - new.available_replicas if new is not None else 0
    total = sum(rs.spec_replicas for rs in state.all)
    max_scaled_down = total - min_available - new_unavailable
    if max_scaled_down <= 0:
        return state
    state = _cleanup_unhealthy(state, max_scaled_down)
    return _scale_down_available(state, min_available)


def _cleanup_unhealthy(state: _State, budget: int) -> _State:
    """Remove pods that are not available from old ReplicaSets first, oldest first: they
    add no capacity, and waiting on them could stall the rollout."""
    for rs in sorted(state.old, key=lambda r: (r.created_s, r.name)):
        unhealthy = rs.spec_replicas - rs.available_replicas
        if budget <= 0:
            break
        if rs.spec_replicas == 0 or unhealthy <= 0:
            continue
        count = min(budget, unhealthy)
        state, budget = _scale(state, rs, rs.spec_replicas - count), budget - count
    return state


def _scale_down_available(state: _State, min_available: int) -> _State:
    """Scale old ReplicaSets down by ``available - min_available``, oldest first."""
    available = sum(rs.available_replicas for rs in state.all)
    budget = available - min_available
    for rs in sorted(state.old, key=lambda r: (r.created_s, r.name)):
        if budget <= 0:
            break
        if rs.spec_replicas == 0:
            continue
        count = min(rs.spec_replicas, budget)
        state, budget = _scale(state, rs, rs.spec_replicas - count), budget - count
    return state


def _recreate(state: _State, now_s: float, old_pods_alive: int) -> DeploymentSync:
    """One Recreate step (upstream rolloutRecreate): old down, wait, new up."""
    state = _sync_revision(state, now_s, create=False)
    before = len(state.writes)
    for rs in state.old:
        if rs.spec_replicas > 0:
            state = _scale(state, rs, 0)
    old_running = sum(rs.replicas for rs in state.old) > 0 or old_pods_alive > 0
    if len(state.writes) > before or old_running:
        return _result(state, synced_status(state.d, state.all, state.new, now_s), ())
    return _recreate_new(state, now_s)


def _recreate_new(state: _State, now_s: float) -> DeploymentSync:
    """Recreate, once no old pod is left: create or fill the new ReplicaSet."""
    state = _sync_revision(state, now_s, create=True)
    if state.new is not None:
        state = _scale(state, state.new, state.d.replicas)
    deletes: tuple[str, ...] = ()
    if deployment_complete(state.d, state.d.status):
        deletes = history_to_delete(state.old, state.d.revision_history_limit)
    return _result(state, synced_status(state.d, state.all, state.new, now_s), deletes)


def history_to_delete(old: Sequence[ReplicaSetView], limit: int | None) -> tuple[str, ...]:
    """Old ReplicaSets beyond revisionHistoryLimit, lowest revision first; only empty ones
    (no pods, scaled to zero) go (upstream cleanupDeployment)."""
    alive = sorted((rs for rs in old if not rs.deleting), key=lambda r: (r.revision, r.created_s))
    if limit is None or len(alive) <= limit:
        return ()
    candidates = alive[: len(alive) - limit]
    return tuple(rs.name for rs in candidates if rs.spec_replicas == 0 and rs.replicas == 0)


def _is_scaling_event(state: _State) -> bool:
    """The Deployment's replicas changed since its active ReplicaSets were last sized
    (their desired-replicas annotation differs): scale, do not roll."""
    active = [rs for rs in state.all if rs.spec_replicas > 0]
    return any(
        rs.desired_replicas is not None and rs.desired_replicas != state.d.replicas for rs in active
    )


def scale_proportionally(
    d: DeploymentView, replica_sets: Sequence[ReplicaSetView]
) -> tuple[ReplicaSetView, ...]:
    """Upstream's ``scale`` step on its own: ``replica_sets`` resized for ``d.replicas``
    (the new ReplicaSet found as a sync finds it). A sync runs it when the replica count
    changed; exposed so it can be checked against upstream's TestScale table."""
    return _scale_proportionally(_split(d, replica_sets)).all


def _scale_proportionally(state: _State) -> _State:
    """Resize ReplicaSets after the Deployment's replicas changed (upstream ``scale``).

    One active ReplicaSet (or none: the newest) takes the full count. A saturated new one
    takes it and old ones go to zero. Otherwise mid-rollout: the new total
    ``replicas + surge`` is shared in proportion to each ReplicaSet's size, the leftover to
    the largest.
    """
    d = state.d
    lone = _active_or_latest(state)
    if lone is not None:
        return _scale(state, lone, d.replicas)
    if state.new is not None and _saturated(d, state.new):
        for rs in state.old:
            if rs.spec_replicas > 0:
                state = _scale(state, rs, 0)
        return state
    if d.strategy is not StrategyType.ROLLING_UPDATE:
        return state
    return _share(state)


def _active_or_latest(state: _State) -> ReplicaSetView | None:
    """The only active ReplicaSet; the newest one if none is active; else None."""
    active = [rs for rs in state.all if rs.spec_replicas > 0]
    if len(active) == 1:
        return active[0]
    if active or not state.all:
        return None
    if state.new is not None:
        return state.new
    return max(state.old, key=lambda rs: (rs.created_s, rs.name))


def _saturated(d: DeploymentView, new: ReplicaSetView) -> bool:
    return (
        new.spec_replicas == d.replicas
        and new.desired_replicas == d.replicas
        and new.available_replicas == d.replicas
    )


def _share(state: _State) -> _State:
    """Proportional scaling of active ReplicaSets (upstream ``scale``, rolling part)."""
    d = state.d
    active = [rs for rs in state.all if rs.spec_replicas > 0]
    if not active:
        return state
    allowed = d.replicas + d.surge if d.replicas > 0 else 0
    to_add = allowed - sum(rs.spec_replicas for rs in active)
    ordered = _size_order(active, scaling_up=to_add > 0)
    sizes = _shared_sizes(d, ordered, to_add)
    for rs in ordered:  # also refreshes the annotations when nothing moves
        state = _scale(state, rs, sizes[rs.name])
    return state


def _shared_sizes(d: DeploymentView, ordered: list[ReplicaSetView], to_add: int) -> dict[str, int]:
    """Each ReplicaSet's new size: its proportion of ``to_add``, the leftover (rounding)
    to the first, largest one (upstream GetProportion)."""
    sizes: dict[str, int] = {}
    added = 0
    for rs in ordered:
        part = _proportion(d, rs, to_add, added)
        sizes[rs.name], added = rs.spec_replicas + part, added + part
    largest = ordered[0].name
    sizes[largest] = max(0, sizes[largest] + to_add - added)
    return sizes


def _size_order(active: list[ReplicaSetView], scaling_up: bool) -> list[ReplicaSetView]:
    """Largest first; among equals, newer first when growing, older first when shrinking."""
    if scaling_up:
        by_age = sorted(active, key=lambda rs: (rs.created_s, rs.name), reverse=True)
    else:
        by_age = sorted(active, key=lambda rs: (rs.created_s, rs.name))
    return sorted(by_age, key=lambda rs: -rs.spec_replicas)


def _proportion(d: DeploymentView, rs: ReplicaSetView, to_add: int, added: int) -> int:
    """This ReplicaSet's share of ``to_add``, never past what is left to add."""
    if rs.spec_replicas == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(d, rs)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def replica_set_fraction(d: DeploymentView, rs: ReplicaSetView) -> int:
    """How many pods ``rs`` gains (or loses) when the Deployment is resized (upstream
    getReplicaSetFraction): round(size * new_max / old_max) - size, where old_max is the
    max-replicas annotation, or the Deployment's status.replicas when that is missing or 0,
    and new_max is replicas + maxSurge. A Deployment scaled to 0 empties every ReplicaSet.
    """
    if d.replicas == 0:
        return -rs.spec_replicas
    before = rs.max_replicas or d.status.replicas
    if before == 0:
        return 0
    scaled = rs.spec_replicas * (d.replicas + d.surge) / before
    return int(scaled + 0.5) - rs.spec_replicas
