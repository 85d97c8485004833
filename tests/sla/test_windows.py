from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import WindowSpan
from slagate.sla.verdict import Window
from slagate.sla.windows import never_began, resolve_all_windows, resolve_window, span_name
from slagate.timeline import WindowBounds
from tests.sla.timelines import T0, ev, load_events, req, scenario, timeline

INFO = {"started_ms": T0 - 2000, "ended_ms": T0 + 33_000}


def test_load_window_runs_from_load_start_to_load_stop() -> None:
    tl = timeline(events=load_events(30), info=INFO)
    assert resolve_window("load", tl) == Window("load", T0, T0 + 30_000, origin_ms=T0)


def test_run_and_cooldown_windows_come_from_run_json() -> None:
    tl = timeline(events=load_events(30), info=INFO)
    assert resolve_window("run", tl) == Window("run", T0 - 2000, T0 + 33_000, origin_ms=T0)
    assert resolve_window("cooldown", tl) == Window(
        "cooldown", T0 + 30_000, T0 + 33_000, origin_ms=T0
    )


def test_a_run_that_never_ended_lasts_until_its_last_recorded_data() -> None:
    events = [ev(-1500, "run_start"), *load_events(30), ev(31_000, "run_end")]
    tl = timeline(events=events, requests=[req(40, 5)], info={"started_ms": T0 - 1500})
    assert resolve_window("run", tl) == Window("run", T0 - 1500, T0 + 41_000, origin_ms=T0)


def test_window_labels_count_from_load_start() -> None:
    tl = timeline(events=load_events(30), info=INFO)
    run = resolve_window("run", tl)
    assert run is not None
    assert run.label == "run [-2.0 s, 33.0 s]"


@pytest.mark.parametrize(
    ("requests", "info", "expected_end"),
    [
        pytest.param([req(0, 5), req(12, 5)], INFO, T0 + 13_000, id="last-requests-second-plus-1s"),
        pytest.param([], INFO, T0 + 33_000, id="no-requests-run-ended"),
    ],
)
def test_killed_run_load_ends_with_the_recorded_data(
    requests: list[tuple[Any, ...]], info: dict[str, int], expected_end: int
) -> None:
    tl = timeline(events=[ev(0, "load_start")], requests=requests, info=info)
    assert resolve_window("load", tl) == Window("load", T0, expected_end, origin_ms=T0)
    assert resolve_window("cooldown", tl) is None


def test_killed_run_with_nothing_recorded_has_no_load_window() -> None:
    assert resolve_window("load", timeline(events=[ev(0, "load_start")])) is None


def test_load_stop_before_load_start_is_ignored() -> None:
    events = [ev(-5000, "load_stop"), *load_events(30)]
    assert resolve_window("load", timeline(events=events)) == Window(
        "load", T0, T0 + 30_000, origin_ms=T0
    )


def test_steady_defaults_to_the_longest_span_at_peak_users() -> None:
    events = [
        *load_events(30),
        ev(0, "users", "5"),
        ev(5000, "users", "10"),
        ev(8000, "users", "10"),  # announced twice: still one span
        ev(20_000, "users", "5"),
        ev(22_000, "users", "10"),
        ev(25_000, "users", "0"),
    ]
    steady = resolve_window("steady", timeline(events=events))
    assert steady == Window("steady", T0 + 5000, T0 + 20_000, origin_ms=T0)


def test_steady_is_clipped_to_the_load_window() -> None:
    events = [ev(-3000, "users", "10"), ev(0, "load_start"), ev(12_000, "load_stop")]
    assert resolve_window("steady", timeline(events=events)) == Window(
        "steady", T0, T0 + 12_000, origin_ms=T0
    )


def test_steady_ignores_unreadable_and_non_harness_events() -> None:
    events = [
        *load_events(30),
        ev(0, "users", "4"),
        ev(10_000, "users", "lots"),
        (T0 + 20_000, "kubernetes", "users", "99", ""),
    ]
    assert resolve_window("steady", timeline(events=events)) == Window(
        "steady", T0, T0 + 30_000, origin_ms=T0
    )


def test_steady_without_users_events_never_began() -> None:
    assert resolve_window("steady", timeline(events=load_events(30))) is None


def test_steady_from_the_scenario_overrides_the_default() -> None:
    events = [*load_events(30), ev(0, "users", "10")]
    named = {"steady": WindowSpan(start=10, end=20)}
    assert resolve_window("steady", timeline(events=events), named) == Window(
        "steady", T0 + 10_000, T0 + 20_000, origin_ms=T0
    )


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        pytest.param(WindowSpan(start=10, end=20), ("10s-20s", 10_000, 20_000), id="start-end"),
        pytest.param(WindowSpan(start=2.5), ("2.5s-end", 2500, 30_000), id="end-is-load-stop"),
        pytest.param(WindowSpan(start=20, end=45), ("20s-45s", 20_000, 45_000), id="past-load"),
        pytest.param(WindowSpan(start=30), None, id="starts-at-load-stop"),
    ],
)
def test_explicit_offsets_count_from_load_start(
    span: WindowSpan, expected: tuple[str, int, int] | None
) -> None:
    resolved = resolve_window(span, timeline(events=load_events(30)))
    if expected is None:
        assert resolved is None
    else:
        name, start, end = expected
        assert resolved == Window(name, T0 + start, T0 + end, origin_ms=T0)


def test_named_window_from_the_scenario() -> None:
    named = {"deploy": WindowSpan(start=5, end=15)}
    assert resolve_window("deploy", timeline(events=load_events(30)), named) == Window(
        "deploy", T0 + 5000, T0 + 15_000, origin_ms=T0
    )


@pytest.mark.parametrize("name", ["run", "load", "steady", "cooldown", "rollout"])
def test_nothing_recorded_means_no_window(name: str) -> None:
    assert resolve_window(name, timeline()) is None


def test_rollout_is_not_recorded_yet() -> None:
    assert resolve_window("rollout", timeline(events=load_events(30), info=INFO)) is None


def test_resolve_all_windows_for_run_json() -> None:
    events = [*load_events(30), ev(0, "users", "10")]
    sc = scenario([], windows={"deploy": {"start": 5, "end": 15}})
    assert resolve_all_windows(sc, timeline(events=events, info=INFO)) == {
        "run": WindowBounds(start_ms=T0 - 2000, end_ms=T0 + 33_000),
        "load": WindowBounds(start_ms=T0, end_ms=T0 + 30_000),
        "steady": WindowBounds(start_ms=T0, end_ms=T0 + 30_000),
        "cooldown": WindowBounds(start_ms=T0 + 30_000, end_ms=T0 + 33_000),
        "deploy": WindowBounds(start_ms=T0 + 5000, end_ms=T0 + 15_000),
    }


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        pytest.param(
            "steady", "no load_start event, or no users event during the load", id="steady"
        ),
        pytest.param("rollout", "no rollout recorded", id="rollout"),
        pytest.param(
            "deploy", "no load_start event, or the load ended before the window's start", id="named"
        ),
        pytest.param(
            WindowSpan(start=1),
            "no load_start event, or the load ended before the window's start",
            id="inline",
        ),
    ],
)
def test_never_began_reasons(ref: str | WindowSpan, reason: str) -> None:
    assert never_began(ref) == reason


def test_span_name_matches_sla_ids() -> None:
    assert span_name(WindowSpan(start=0, end=90)) == "0s-90s"
