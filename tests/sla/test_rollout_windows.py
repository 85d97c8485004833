from __future__ import annotations

from typing import Any

import pytest

from slagate.sla.rollout_spans import RolloutSpan, rollout_spans
from slagate.sla.verdict import Window
from slagate.sla.windows import resolve_all_windows, resolve_window
from slagate.timeline import WindowBounds
from tests.sla.timelines import (
    T0,
    deploy,
    ev,
    load_events,
    req,
    rollout_events,
    scenario,
    timeline,
)

INFO = {"started_ms": T0 - 2000, "ended_ms": T0 + 90_000}


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            rollout_events(10, 30, 42.5, 42.6),
            Window("rollout", T0 + 10_000, T0 + 42_500, origin_ms=T0),
            id="start-to-settled",
        ),
        pytest.param(
            rollout_events(10, 30, None, 40, "timeout"),
            Window("rollout (unfinished)", T0 + 10_000, T0 + 40_000, origin_ms=T0),
            id="no-settle-ends-at-action-end",
        ),
        pytest.param(
            [*rollout_events(10, 20, 25, 25.1), *rollout_events(50, 60, 70, 70.1)],
            Window("rollout", T0 + 10_000, T0 + 70_000, origin_ms=T0),
            id="two-rollouts-first-start-to-last-settle",
        ),
        pytest.param(
            [
                *rollout_events(10, 20, 25, 25.1),
                *rollout_events(12, 20, 33, 33.1, name="set_image deployment/product"),
            ],
            Window("rollout", T0 + 10_000, T0 + 33_000, origin_ms=T0),
            id="overlapping-rollouts-of-two-deployments",
        ),
    ],
)
def test_rollout_window(events: list[tuple[Any, ...]], expected: Window) -> None:
    tl = timeline(events=[*load_events(80), *events], info=INFO)
    assert resolve_window("rollout", tl) == expected


def test_unfinished_rollout_ends_with_the_recorded_data() -> None:
    tl = timeline(
        events=[ev(0, "load_start"), *rollout_events(10, None, None, None)],
        requests=[req(20, 5)],
        replicas=[deploy(23_456, 3, 2)],
        info={"started_ms": T0 - 2000},
    )
    window = resolve_window("rollout", tl)
    assert window == Window("rollout (unfinished)", T0 + 10_000, T0 + 23_457, origin_ms=T0)
    assert window.label == "rollout (unfinished) [10.0 s, 23.5 s]"


def test_one_unfinished_rollout_of_two_flags_the_window() -> None:
    events = [*rollout_events(10, 20, None, 40, "timeout"), *rollout_events(50, 60, 70, 70.1)]
    window = resolve_window("rollout", timeline(events=[*load_events(80), *events]))
    assert window == Window("rollout (unfinished)", T0 + 10_000, T0 + 70_000, origin_ms=T0)


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([], id="no-actions"),
        pytest.param(
            [ev(10_000, "action_start", "scale deployment/order"), ev(10_500, "action_end")],
            id="scale-is-no-rollout",
        ),
        pytest.param(
            [(T0 + 10_000, "kubernetes", "action_start", "rollout_restart deployment/order", "")],
            id="kubernetes-source-ignored",
        ),
    ],
)
def test_no_rollout_no_window(events: list[tuple[Any, ...]]) -> None:
    tl = timeline(events=[*load_events(80), *events], info=INFO)
    assert resolve_window("rollout", tl) is None


def test_resolve_all_windows_includes_the_rollout() -> None:
    tl = timeline(events=[*load_events(80), *rollout_events(10, 30, 42.5, 42.6)], info=INFO)
    windows = resolve_all_windows(scenario([]), tl)
    assert windows["rollout"] == WindowBounds(start_ms=T0 + 10_000, end_ms=T0 + 42_500)


def test_rollouts_pair_phases_by_name_and_order() -> None:
    events = [
        *rollout_events(10, 20, 25, 25.1),
        *rollout_events(12, None, None, 40, "timeout", name="set_image deployment/product"),
        *rollout_events(50, 60, 70, 70.1),
    ]
    assert rollout_spans(timeline(events=events).harness_events()) == (
        RolloutSpan(
            "rollout_restart deployment/order",
            T0 + 10_000,
            T0 + 20_000,
            T0 + 25_000,
            T0 + 25_100,
            "ok",
        ),
        RolloutSpan(
            "set_image deployment/product", T0 + 12_000, None, None, T0 + 40_000, "timeout"
        ),
        RolloutSpan(
            "rollout_restart deployment/order",
            T0 + 50_000,
            T0 + 60_000,
            T0 + 70_000,
            T0 + 70_100,
            "ok",
        ),
    )


@pytest.mark.parametrize(
    ("name", "deployment"),
    [
        pytest.param("rollout_restart deployment/order", "order", id="deployment"),
        pytest.param("set_image deploy/order order=shop:2", "order", id="short-kind-and-args"),
        pytest.param("rollout_restart statefulset/db", None, id="not-a-deployment"),
    ],
)
def test_rollout_deployment(name: str, deployment: str | None) -> None:
    assert RolloutSpan(name, T0).deployment == deployment
