from __future__ import annotations

import pytest

from slagate.load.plans import LoadPlan
from slagate.scenario import Stage, parse_scenario

STEPS = """
name: steps
load:
  shape: steps
  spawn_rate: 5
  stages:
    - {users: 2, duration: 10s}
    - {users: 8, duration: 20s, spawn_rate: 50}
"""


@pytest.mark.parametrize(
    ("t_s", "expected"),
    [
        pytest.param(0.0, Stage(10.0, 2, 5.0), id="start"),
        pytest.param(9.99, Stage(10.0, 2, 5.0), id="end-of-first"),
        pytest.param(10.0, Stage(30.0, 8, 50.0), id="second-begins"),
        pytest.param(29.9, Stage(30.0, 8, 50.0), id="end-of-second"),
        pytest.param(30.0, None, id="over"),
    ],
)
def test_stages_from_a_scenario(t_s: float, expected: Stage | None) -> None:
    plan = LoadPlan.from_scenario(parse_scenario(STEPS))
    assert plan.at(t_s) == expected
    assert plan.duration_s == 30.0


def test_users_are_capped_at_max_users() -> None:
    plan = LoadPlan((Stage(10.0, 500, 10.0),), max_users=100, max_duration_s=60.0)
    assert plan.at(1.0) == Stage(10.0, 100, 10.0)


def test_the_plan_ends_at_max_duration_whatever_the_stages() -> None:
    plan = LoadPlan((Stage(10.0, 5, 1.0), Stage(100.0, 6, 1.0)), max_users=10, max_duration_s=40.0)
    assert plan.at(39.0) == Stage(40.0, 6, 1.0)
    assert plan.at(40.0) is None
    assert plan.duration_s == 40.0


def test_scenario_limits_become_the_caps() -> None:
    scenario = parse_scenario(STEPS + "limits: {max_users: 8, max_duration: 30s}\n")
    plan = LoadPlan.from_scenario(scenario)
    assert (plan.max_users, plan.max_duration_s) == (8, 30.0)
