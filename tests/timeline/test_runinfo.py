"""run.json: one typed model, written atomically, validated when read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slagate.errors import TimelineError
from slagate.sandbox import SandboxSettings
from slagate.scenario import parse_scenario
from slagate.timeline import (
    RunInfo,
    RunStatus,
    WindowBounds,
    load_timeline,
    read_run_info,
    same_conditions,
    write_run_info,
)

SCENARIO = parse_scenario("name: s\nload: {shape: constant, users: 2, duration: 5s}\n")


def test_run_info_round_trips_with_the_scenario(tmp_path: Path) -> None:
    info = RunInfo(
        run_id="r",
        scenario=SCENARIO,
        started_ms=5,
        status=RunStatus.COMPLETED,
        windows={"load": WindowBounds(start_ms=5, end_ms=9)},
    )
    write_run_info(tmp_path, info)
    assert read_run_info(tmp_path) == info
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "completed"
    assert load_timeline(tmp_path).info == info


def test_run_json_is_readable_by_everyone(tmp_path: Path) -> None:
    write_run_info(tmp_path, RunInfo(run_id="r", started_ms=1))
    assert (tmp_path / "run.json").stat().st_mode & 0o777 == 0o644


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match=r"run\.json is missing"):
        load_timeline(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "cannot read", id="not-json"),
        pytest.param('{"run_id": "r"}', "started_ms: Field required", id="missing-field"),
        pytest.param(
            '{"run_id": "r", "started_ms": 1, "status": "exploded"}', "status: Input", id="value"
        ),
        pytest.param(
            '{"run_id": "r", "started_ms": 1, "schema_version": 9}',
            "written by a newer slagate",
            id="newer",
        ),
    ],
)
def test_a_damaged_run_json_is_named_with_its_field(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "run.json").write_text(text)
    with pytest.raises(TimelineError, match=message) as caught:
        read_run_info(tmp_path)
    assert str(tmp_path / "run.json") in str(caught.value)


def test_prometheus_secrets_of_the_scenario_never_reach_run_json(tmp_path: Path) -> None:
    scenario = parse_scenario(
        "name: s\nload: {shape: constant, users: 1, duration: 5s}\n"
        "prometheus:\n  url: https://admin:hunter2@prom.example/\n"
        "  headers: {Authorization: Bearer sha256~TOKEN, X-Scope-OrgID: team}\n"
    )
    write_run_info(tmp_path, RunInfo(run_id="r", scenario=scenario, started_ms=1))

    text = (tmp_path / "run.json").read_text()
    assert "hunter2" not in text
    assert "TOKEN" not in text
    recorded = read_run_info(tmp_path).scenario
    assert recorded is not None
    assert recorded.prometheus.url == "https://prom.example"
    assert recorded.prometheus.headers == {
        "Authorization": "<redacted>",
        "X-Scope-OrgID": "<redacted>",
    }


def test_user_info_of_target_urls_never_reaches_run_json(tmp_path: Path) -> None:
    scenario = parse_scenario(
        "name: s\nload: {shape: constant, users: 1, duration: 5s}\n"
        "target:\n  host: http://load:hunter2@shop.example:8000\n"
        "  services: {product: 'https://svc:hunter3@product.example/api'}\n"
    )
    info = RunInfo(
        run_id="r",
        scenario=scenario,
        host="http://load:hunter2@shop.example:8000",
        services={"product": "https://svc:hunter3@product.example/api"},
        started_ms=1,
    )
    write_run_info(tmp_path, info)

    text = (tmp_path / "run.json").read_text()
    assert "hunter" not in text
    recorded = read_run_info(tmp_path)
    assert recorded.host == "http://shop.example:8000"
    assert recorded.services == {"product": "https://product.example/api"}
    assert recorded.scenario is not None
    assert recorded.scenario.target.host == "http://shop.example:8000"
    assert recorded.scenario.target.services == {"product": "https://product.example/api"}
    assert scenario.target.host == "http://load:hunter2@shop.example:8000"  # the load uses it


def test_runs_recorded_before_a_profile_field_existed_still_compare_by_the_rest() -> None:
    now = SandboxSettings.timed("compressed").profile
    older = now.model_copy(update={"hpa_tolerance": None, "scrape_interval_s": None})
    elsewhere = now.model_copy(update={"scrape_interval_s": 15.0})
    other_plane = older.model_copy(update={"data_plane": "kube-proxy"})

    assert same_conditions(now, older) and same_conditions(older, now)
    assert not same_conditions(now, elsewhere)  # both recorded it, and they differ
    assert not same_conditions(now, other_plane)
    assert same_conditions(None, None) and not same_conditions(now, None)
