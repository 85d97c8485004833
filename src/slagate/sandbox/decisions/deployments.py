"""Deployment and ReplicaSet values, as the Deployment controller reads them.

Plain frozen dataclasses with upstream defaults; the controller loop builds them from the
stored objects (ReplicaSet annotations parsed to ints) and writes decisions back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from slagate.sandbox.decisions.conditions import Condition
from slagate.sandbox.decisions.fenceposts import (
    DEFAULT_MAX_SURGE,
    DEFAULT_MAX_UNAVAILABLE,
    IntOrPercent,
    max_unavailable,
    resolve_fenceposts,
)


class StrategyType(enum.Enum):
    """``spec.strategy.type``."""

    ROLLING_UPDATE = "RollingUpdate"
    RECREATE = "Recreate"


@dataclass(frozen=True)
class DeploymentStatus:
    """``status`` of a Deployment (counts in pods)."""

    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class DeploymentView:
    """A Deployment's spec (upstream defaults) and its current status.

    ``template_hash`` is ``revisions.pod_template_hash(spec.template, collisionCount)``.
    ``progress_deadline_s`` None means no deadline (no Progressing condition at all).
    ``revision_history_limit`` None keeps every old ReplicaSet.
    """

    name: str
    replicas: int
    template_hash: str
    generation: int = 1
    strategy: StrategyType = StrategyType.ROLLING_UPDATE
    max_surge: IntOrPercent = DEFAULT_MAX_SURGE
    max_unavailable: IntOrPercent = DEFAULT_MAX_UNAVAILABLE
    min_ready_s: int = 0
    progress_deadline_s: int | None = 600
    revision_history_limit: int | None = 10
    status: DeploymentStatus = field(default_factory=DeploymentStatus)

    @property
    def surge(self) -> int:
        """maxSurge in pods; 0 for Recreate (upstream ``MaxSurge``)."""
        if self.strategy is not StrategyType.ROLLING_UPDATE:
            return 0
        return resolve_fenceposts(self.max_surge, self.max_unavailable, self.replicas).surge

    @property
    def unavailable(self) -> int:
        """maxUnavailable in pods; 0 for Recreate or zero replicas (``MaxUnavailable``)."""
        if self.strategy is not StrategyType.ROLLING_UPDATE:
            return 0
        return max_unavailable(self.max_surge, self.max_unavailable, self.replicas)


@dataclass(frozen=True)
class ReplicaSetView:
    """A ReplicaSet owned by the Deployment.

    ``spec_replicas`` is spec.replicas; ``replicas``/``ready_replicas``/
    ``available_replicas`` its status. ``revision``, ``desired_replicas`` and
    ``max_replicas`` are the deployment.kubernetes.io annotations (None when absent).
    ``deleting``: metadata.deletionTimestamp is set.
    """

    name: str
    template_hash: str
    created_s: float
    spec_replicas: int
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    revision: int = 0
    desired_replicas: int | None = None
    max_replicas: int | None = None
    deleting: bool = False
