"""Load plans: a scenario's stages as "how many users at second t", with the hard caps.

Pure data; ``slagate.load.shaping`` turns a plan into a Locust load shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from slagate.scenario import Scenario, Stage


@dataclass(frozen=True)
class LoadPlan:
    """Stages (``end_s`` counted from load start) capped by ``max_users``/``max_duration_s``.

    The caps are a safety net on top of the scenario's own validation: the plan never asks
    for more than ``max_users`` users and ends at ``max_duration_s`` whatever the stages say.
    """

    stages: tuple[Stage, ...]
    max_users: int
    max_duration_s: float

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> LoadPlan:
        limits = scenario.limits
        return cls(tuple(scenario.load.stages()), limits.max_users, limits.max_duration)

    @property
    def duration_s(self) -> float:
        """When the plan ends: the last stage's end or the duration cap, if earlier."""
        last = self.stages[-1].end_s if self.stages else 0.0
        return min(last, self.max_duration_s)

    def at(self, t_s: float) -> Stage | None:
        """The stage in force ``t_s`` seconds after load start, capped; None once it ended."""
        if t_s >= self.max_duration_s:
            return None
        for stage in self.stages:
            if t_s < stage.end_s:
                end_s = min(stage.end_s, self.max_duration_s)
                return Stage(end_s, min(stage.users, self.max_users), stage.spawn_rate)
        return None
