"""Timed cluster actions: rollout restart, set image, scale, delete pod."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from slagate.numbers import INT32_MAX, MAX_DURATION_S
from slagate.scenario.base import Duration, _Model

"""Kubernetes' type for replicas: a larger count is refused by the API server anyway."""

# --- actions ------------------------------------------------------------------------------


class _Action(_Model):
    at: Duration = Field(description="Seconds after load start.")
    id: str | None = None

    @property
    def namespace_needed(self) -> bool:
        return True


class RolloutAction(_Action):
    """An action that rolls a Deployment out to a new template, waited for until complete
    and the old pods are gone (or ``timeout``).

    ``on_fail: rollback``: when the run fails (an SLA failed) or is stopped once this
    rollout has begun, slagate undoes it as ``kubectl rollout undo --to-revision`` does,
    back to the revision the Deployment had before the action, and waits up to
    ``timeout`` for that rollout too."""

    deployment: str
    timeout: Duration = 300.0
    on_fail: Literal["rollback"] | None = None

    @property
    def rolls_back(self) -> bool:
        return self.on_fail == "rollback"


class RolloutRestartAction(RolloutAction):
    """``kubectl rollout restart``, then wait until complete and the old pods are gone."""

    kind: Literal["rollout_restart"]


class SetImageAction(RolloutAction):
    """``kubectl set image``: a new template, hence a rollout; waited for like a restart."""

    kind: Literal["set_image"]
    container: str
    image: str


class ScaleAction(_Action):
    kind: Literal["scale"]
    deployment: str
    replicas: Annotated[int, Field(ge=0, le=INT32_MAX)]


class DeletePodAction(_Action):
    """Delete one pod matching ``selector`` (label selector), or the pod named ``pod``."""

    kind: Literal["delete_pod"]
    selector: str | None = None
    pod: str | None = None
    grace_period: Annotated[int, Field(ge=0, le=int(MAX_DURATION_S))] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DeletePodAction:
        if (self.selector is None) == (self.pod is None):
            raise ValueError("give exactly one of selector (e.g. app=order) or pod (a name)")
        return self


ActionSpec = Annotated[
    RolloutRestartAction | SetImageAction | ScaleAction | DeletePodAction,
    Field(discriminator="kind"),
]
ACTION_KINDS = ("rollout_restart", "set_image", "scale", "delete_pod")
