"""Load shapes: constant, steps, ramp, spike, each as a list of stages."""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

from pydantic import (
    Field,
)

from slagate.scenario.base import HARD_MAX_USERS, Duration, _Model

# --- load shapes --------------------------------------------------------------------------


class Stage(NamedTuple):
    """Hold ``users`` (spawned at ``spawn_rate``/s) until ``end_s`` seconds after load start."""

    end_s: float
    users: int
    spawn_rate: float


Users = Annotated[int, Field(ge=0, le=HARD_MAX_USERS)]
SpawnRate = Annotated[float, Field(gt=0, le=10_000)]


DEFAULT_MAX_ENDPOINTS = 500
"""Distinct (method, name) pairs a load process records before it folds new names."""


class _Shape(_Model):
    locustfile: str = "locustfiles/orders.py"
    user_classes: list[str] = Field(default_factory=list)
    spawn_rate: SpawnRate = 10.0
    max_endpoints: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=DEFAULT_MAX_ENDPOINTS,
        description=(
            "Distinct request names (with their method) recorded per load process; requests "
            "with a further new name are counted under one overflow endpoint, with a warning. "
            "Endpoints the SLAs name are never folded and take none of these places."
        ),
    )

    tolerate_worker_loss: bool = Field(
        default=False,
        description=(
            "A distributed run passes its ``workers`` verdict even if a Locust worker is "
            "lost mid-run (the verdict still names it); by default a lost worker fails it."
        ),
    )

    def stages(self) -> list[Stage]:
        raise NotImplementedError

    @property
    def duration_s(self) -> float:
        return self.stages()[-1].end_s

    @property
    def peak_users(self) -> int:
        return max(s.users for s in self.stages())


class ConstantLoad(_Shape):
    shape: Literal["constant"]
    users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    duration: Duration

    def stages(self) -> list[Stage]:
        return [Stage(self.duration, self.users, self.spawn_rate)]


class StepStage(_Model):
    users: Users
    duration: Duration
    spawn_rate: SpawnRate | None = None


class StepsLoad(_Shape):
    shape: Literal["steps"]
    stages_: list[StepStage] = Field(alias="stages", min_length=1)

    def stages(self) -> list[Stage]:
        out, end = [], 0.0
        for s in self.stages_:
            end += s.duration
            out.append(Stage(end, s.users, s.spawn_rate or self.spawn_rate))
        return out


class RampLoad(_Shape):
    """From ``start_users`` to ``end_users`` over ``ramp`` in one-second steps, then ``hold``."""

    shape: Literal["ramp"]
    start_users: Users = 1
    end_users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    ramp: Duration
    hold: Duration = 0.0

    def stages(self) -> list[Stage]:
        steps = max(1, int(self.ramp))
        out = []
        for i in range(1, steps + 1):
            users = round(self.start_users + (self.end_users - self.start_users) * i / steps)
            out.append(Stage(self.ramp * i / steps, users, self.spawn_rate))
        if self.hold > 0:
            out.append(Stage(self.ramp + self.hold, self.end_users, self.spawn_rate))
        return out


class SpikeLoad(_Shape):
    """``users`` for ``before``, ``spike_users`` for ``spike``, back to ``users`` for ``after``."""

    shape: Literal["spike"]
    users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    spike_users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    before: Duration
    spike: Duration
    after: Duration
    spike_spawn_rate: SpawnRate = 100.0

    def stages(self) -> list[Stage]:
        t1 = self.before
        t2 = t1 + self.spike
        return [
            Stage(t1, self.users, self.spawn_rate),
            Stage(t2, self.spike_users, self.spike_spawn_rate),
            Stage(t2 + self.after, self.users, self.spike_spawn_rate),
        ]


LoadShape = Annotated[ConstantLoad | StepsLoad | RampLoad | SpikeLoad, Field(discriminator="shape")]
