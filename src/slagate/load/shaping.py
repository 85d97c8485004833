"""A scenario's load plan as a Locust ``LoadTestShape`` that announces target changes.

Locust calls ``tick`` about once a second on the local runner or the master; the shape
answers ``(users, spawn_rate)`` from the plan, or None after the last stage (or at the
duration cap), which ends the load. Each new target is reported to ``on_target`` (the
``users`` harness event).
"""

from __future__ import annotations

from collections.abc import Callable

from locust import LoadTestShape

from slagate.load.plans import LoadPlan


class ScenarioShape(LoadTestShape):
    """Runs a ``LoadPlan``; ``finished`` turns True once the plan has ended.

    ``halt`` ends the load at the next tick instead (an abort): Locust's own shape worker
    then stops the runner, as at the end of a plan, so nothing stops it twice.
    """

    # Not offered in the web UI's shape picker nor picked up from a locustfile's globals:
    # it needs a plan to be built.
    abstract = True

    def __init__(self, plan: LoadPlan, on_target: Callable[[int], None] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.plan = plan
        self.finished = False
        self.halted = False
        self._on_target = on_target
        self._target: int | None = None

    def halt(self) -> None:
        self.halted = True

    def tick(self) -> tuple[int, float] | None:
        if self.halted:
            return None
        stage = self.plan.at(self.get_run_time())  # type: ignore[no-untyped-call]
        if stage is None:
            self.finished = True
            return None
        if stage.users != self._target:
            self._target = stage.users
            if self._on_target is not None:
                self._on_target(stage.users)
        return stage.users, stage.spawn_rate
