from __future__ import annotations

from pathlib import Path

import pytest

from slagate.errors import ScenarioError
from slagate.scenario import (
    ConstantLoad,
    Stage,
    load_scenario,
    parse_duration,
    parse_scenario,
)

BASE = """\
name: t
target: {host: "http://127.0.0.1:1"}
load:
  shape: constant
  users: 5
  duration: 10s
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return info.value.problems


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param(3, 3.0, id="int"),
        pytest.param(2.5, 2.5, id="float"),
        pytest.param("500ms", 0.5, id="ms"),
        pytest.param("30s", 30.0, id="s"),
        pytest.param("2m", 120.0, id="m"),
        pytest.param("1h", 3600.0, id="h"),
        pytest.param(" 7 ", 7.0, id="bare-string"),
    ],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["-1s", "ten", "5 days", True, None, float("inf")])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_minimal_scenario_defaults() -> None:
    s = parse_scenario(BASE)
    assert isinstance(s.load, ConstantLoad)
    assert s.load.stages() == [Stage(10.0, 5, 10.0)]
    assert s.limits.max_users == 1000
    assert s.slas == []


def test_shapes_stages() -> None:
    steps = parse_scenario(
        BASE.replace(
            "  shape: constant\n  users: 5\n  duration: 10s\n",
            "  shape: steps\n"
            "  stages: [{users: 2, duration: 5s}, {users: 4, duration: 5s, spawn_rate: 1}]\n",
        )
    )
    assert steps.load.stages() == [Stage(5.0, 2, 10.0), Stage(10.0, 4, 1.0)]
    ramp = parse_scenario(
        BASE.replace(
            "  shape: constant\n  users: 5\n  duration: 10s\n",
            "  shape: ramp\n  start_users: 0\n  end_users: 4\n  ramp: 4s\n  hold: 6s\n",
        )
    )
    assert [(s.end_s, s.users) for s in ramp.load.stages()] == [
        (1.0, 1),
        (2.0, 2),
        (3.0, 3),
        (4.0, 4),
        (10.0, 4),
    ]
    assert ramp.load.duration_s == 10.0


def test_sla_ids_derived_and_unique() -> None:
    s = parse_scenario(
        BASE
        + "slas:\n"
        + "  - {kind: availability, min_percent: 99}\n"
        + "  - {kind: latency, max_ms: 100, endpoint: 'GET /orders/[id]', window: steady}\n"
        + "  - {kind: throughput, min_rps: 1, window: {start: 2s, end: 8s}}\n"
    )
    assert [x.sla_id for x in s.slas] == [
        "availability-load",
        "p95-latency-get-orders-id-steady",
        "throughput-2s-8s",
    ]


def test_errors_name_file_line_and_field() -> None:
    found = problems(
        BASE
        + "slas:\n"
        + "  - kind: latency\n"
        + "    max_ms: -5\n"
        + "  - kind: nonsense\n"
        + "  - kind: availability\n"
        + "    min_percent: 99\n"
        + "    typo: 1\n"
    )
    assert found == [
        "s.yaml:9: slas[0].max_ms: Input should be greater than 0 (got -5)",
        "s.yaml:10: slas[1]: unknown kind 'nonsense'; expected one of 'availability', "
        "'failed_requests', 'latency', 'throughput', 'ready_endpoints', 'rollout_duration', "
        "'scale_out', 'max_replicas', 'scale_in', 'flapping', 'no_lost_writes', 'promql'",
        "s.yaml:13: slas[2].typo: unknown field; check the spelling against the scenario "
        "reference in the README",
    ]


def test_malformed_yaml_names_line() -> None:
    assert problems("name: [x\nload: 1\n") == [
        "s.yaml:2: malformed YAML: expected ',' or ']', but got ':'"
    ]


def test_a_duplicate_key_is_refused_with_its_line() -> None:
    assert problems("name: x\nload: {shape: constant, users: 1, duration: 1s}\nname: y\n") == [
        "s.yaml:3: malformed YAML: duplicate key 'name'"
    ]


def test_errors_inside_a_union_name_the_users_field_not_the_union_member() -> None:
    found = problems(BASE + "slas:\n  - {kind: latency, percentile: 95, max_ms: -1}\n")
    assert found == ["s.yaml:8: slas[0].max_ms: Input should be greater than 0 (got -1)"]


def test_missing_fields_and_wrong_types() -> None:
    found = problems("name: x\nload:\n  shape: constant\n  users: many\n")
    assert found == [
        "s.yaml:4: load.users: Input should be a valid integer, unable to parse string as an "
        "integer (got 'many')",
        "s.yaml:3: load.duration: required field is missing",
    ]


def test_limits_are_enforced() -> None:
    found = problems(BASE + "limits: {max_users: 2}\n")
    assert found == [
        "s.yaml:7: limits.max_users: the load peaks at 5 users, above the limit of 2; "
        "lower the load or raise the limit"
    ]


def test_unknown_window_reference() -> None:
    found = problems(BASE + "slas:\n  - {kind: throughput, min_rps: 1, window: later}\n")
    assert found[0].startswith("s.yaml:8: slas[0].window: unknown window 'later'")


def test_top_level_not_a_mapping() -> None:
    assert problems("- a\n- b\n") == [
        "s.yaml:1: expected a mapping with name, load and slas at the top"
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "absent.yaml")
    assert "cannot read the file" in info.value.problems[0]


def test_shipped_scenarios_are_valid() -> None:
    for path in sorted(Path(__file__).parents[2].joinpath("scenarios").glob("*.yaml")):
        assert load_scenario(path).slas, path


ACTIONS = """\
actions:
  - {kind: rollout_restart, deployment: order, at: 5s}
"""


def test_actions_need_an_allowed_namespace() -> None:
    assert problems(BASE + ACTIONS)[0].startswith(
        "s.yaml:8: actions: actions change a cluster; declare target.kubernetes"
    )
    kube = BASE.replace(
        'target: {host: "http://127.0.0.1:1"}',
        'target: {host: "http://127.0.0.1:1", kubernetes: {namespace: shop}}',
    )
    assert problems(kube + ACTIONS) == [
        "s.yaml:2: target.kubernetes.allow_mutations_in: actions would change namespace "
        "'shop', which is not allowed; add it to allow_mutations_in if this cluster may be "
        "changed"
    ]
    allowed = kube.replace("{namespace: shop}", "{namespace: shop, allow_mutations_in: [shop]}")
    assert parse_scenario(allowed + ACTIONS).actions[0].at == 5.0


def test_action_after_the_load_is_refused() -> None:
    text = BASE.replace(
        'target: {host: "http://127.0.0.1:1"}',
        'target: {host: "http://127.0.0.1:1", kubernetes: {allow_mutations_in: [default]}}',
    ) + ACTIONS.replace("5s", "30s")
    assert problems(text)[0].endswith("actions[0].at: 30 s is after the load ends (10 s)")


def test_delete_pod_needs_one_target() -> None:
    text = (
        BASE.replace(
            'target: {host: "http://127.0.0.1:1"}',
            'target: {host: "http://127.0.0.1:1", kubernetes: {allow_mutations_in: [default]}}',
        )
        + "actions:\n  - {kind: delete_pod, at: 1s}\n"
    )
    assert "give exactly one of selector" in problems(text)[0]


def test_max_endpoints_defaults_to_500_and_must_be_positive() -> None:
    assert parse_scenario(BASE, "s.yaml").load.max_endpoints == 500
    found = problems(BASE + "  max_endpoints: 0\n")
    assert found == [
        "s.yaml:7: load.max_endpoints: Input should be greater than or equal to 1 (got 0)"
    ]


@pytest.mark.parametrize(
    ("sla", "why"),
    [
        pytest.param(
            "{id: rate, kind: throughput, min_rps: 5, abort_on_fail: true}",
            "more requests can only raise a mean rate",
            id="throughput",
        ),
        pytest.param(
            "{id: lost, kind: no_lost_writes, abort_on_fail: true}",
            "writes are read back after the load",
            id="no_lost_writes",
        ),
        pytest.param(
            "{id: pods, kind: promql, query: up, threshold: 1, abort_on_fail: true}",
            "judged after the load",
            id="promql",
        ),
    ],
)
def test_abort_on_fail_is_refused_where_no_breach_is_beyond_repair(sla: str, why: str) -> None:
    (problem,) = problems(BASE + f"slas:\n  - {sla}\n")
    sla_id = sla.split(",")[0].removeprefix("{id: ")
    assert problem.startswith(f"s.yaml:8: slas[0].abort_on_fail: SLA '{sla_id}': ")
    assert why in problem and "remove abort_on_fail" in problem


def test_grace_without_abort_on_fail_is_refused_naming_the_sla() -> None:
    text = BASE + "slas:\n  - {id: budget, kind: failed_requests, max: 3, grace: 5s}\n"
    (problem,) = problems(text)
    assert problem.startswith("s.yaml:8: slas[0].grace: SLA 'budget': grace delays abort_on_fail")


def test_abort_on_fail_with_grace_is_read_on_kinds_that_can_stop_the_run() -> None:
    text = BASE + (
        "slas:\n"
        "  - {kind: failed_requests, max: 3, abort_on_fail: true, grace: 10s}\n"
        "  - {kind: latency, max_ms: 300, abort_on_fail: true}\n"
    )
    budget, latency = parse_scenario(text).slas
    assert (budget.abort_on_fail, budget.grace) == (True, 10.0)
    assert (latency.abort_on_fail, latency.grace) == (True, 0.0)


@pytest.mark.parametrize(
    ("sla", "expected"),
    [
        pytest.param(
            "{kind: latency, percentile: 95, max_ms: 100, max_ratio_to_baseline: 1.2}",
            "slas[0]: give exactly one of max_ms (an absolute bound) or max_ratio_to_baseline",
            id="both",
        ),
        pytest.param(
            "{kind: throughput}",
            "slas[0]: give exactly one of min_rps (an absolute bound) or min_ratio_to_baseline",
            id="neither",
        ),
        pytest.param(
            "{kind: failed_requests, max: 0, max_ratio_to_baseline: 1.2}",
            "slas[0].max_ratio_to_baseline: unknown field",
            id="a-kind-without-ratios",
        ),
        pytest.param(
            "{kind: latency, max_ratio_to_baseline: 0}",
            "slas[0].max_ratio_to_baseline: Input should be greater than 0",
            id="zero-ratio",
        ),
    ],
)
def test_relative_bounds_are_refused_where_they_do_not_apply(sla: str, expected: str) -> None:
    (found,) = problems(BASE + f"slas:\n  - {sla}\n")

    assert expected in found


def test_relative_slas_of_every_kind_that_has_them_load() -> None:
    s = parse_scenario(
        BASE
        + "slas:\n"
        + "  - {kind: latency, percentile: 99, max_ratio_to_baseline: 1.2}\n"
        + "  - {kind: availability, min_ratio_to_baseline: 0.999}\n"
        + "  - {kind: throughput, min_ratio_to_baseline: 0.9}\n"
        + "  - {kind: rollout_duration, deployment: order, max_ratio_to_baseline: 1.5}\n"
        + "  - {kind: scale_out, deployment: order, replicas: 3, max_ratio_to_baseline: 1.5}\n"
    )

    assert [sla.threshold for sla in s.slas] == [
        (1.2, "x baseline"),
        (0.999, "x baseline"),
        (0.9, "x baseline"),
        (1.5, "x baseline"),
        (1.5, "x baseline"),
    ]


def test_judged_endpoints_are_every_endpoint_an_sla_names_once() -> None:
    s = parse_scenario(
        BASE
        + "slas:\n"
        + "  - {kind: latency, max_ms: 100, endpoint: 'GET /orders/[id]'}\n"
        + "  - {kind: availability, min_percent: 99, endpoint: /products}\n"
        + "  - {kind: failed_requests, max: 0, endpoint: 'GET /orders/[id]'}\n"
        + "  - {kind: promql, query: 'max(up)', threshold: 1, op: '>=',\n"
        + "     endpoints: [/orders, /products]}\n"
        + "  - {kind: throughput, min_rps: 1}\n"
    )
    assert s.judged_endpoints() == ("GET /orders/[id]", "/products", "/orders")


def test_abort_on_fail_is_refused_on_an_sla_relative_to_a_baseline() -> None:
    text = BASE + (
        "slas:\n  - {id: p95, kind: latency, max_ratio_to_baseline: 1.2, abort_on_fail: true}\n"
    )
    (problem,) = problems(text)
    assert problem.startswith("s.yaml:8: slas[0].abort_on_fail: SLA 'p95': an SLA relative")
