"""Two runs side by side: what ``compare_runs`` measures, comparison.json, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slagate.errors import ConfigError, ExitCode, TimelineError
from slagate.report import render_report
from slagate.report.building import build_report
from slagate.report.comparison import (
    COMPARISON,
    Change,
    Comparison,
    compare_runs,
    read_comparison,
    write_comparison,
)
from slagate.report.summary import Summary
from slagate.run.comparing import compare_folders
from slagate.sla.verdict import Status, Verdict
from slagate.timeline import Timeline, load_timeline, read_run_info, write_run_info
from tests.report.runs import EVIL, write_run
from tests.sla.timelines import hist, load_events, req, scenario, timeline

ORDERS, PRODUCTS = "POST /orders", "GET /products/[id]"


def shop_run(order_ms: int, order_failures: int = 0) -> Timeline:
    """30 s: 10 order requests/s at ``order_ms``, 20 product reads/s at 5 ms."""
    return timeline(
        events=load_events(30),
        requests=[
            *(req(s, 10, order_failures if s == 3 else 0, ORDERS) for s in range(30)),
            *(req(s, 20, 0, PRODUCTS) for s in range(30)),
        ],
        latency=[
            *(hist(s, order_ms, 10, ORDERS) for s in range(30)),
            *(hist(s, 5, 20, PRODUCTS) for s in range(30)),
        ],
    )


def by_key(comparison: Comparison) -> dict[tuple[str, str], Change]:
    return {(c.subject, c.what): c for c in comparison.changes}


def test_each_endpoint_and_all_of_them_are_measured_in_both_runs() -> None:
    changes = by_key(compare_runs(scenario([]), shop_run(40), shop_run(80, 3), None, None))

    assert (changes[ORDERS, "p50"].base, changes[ORDERS, "p50"].new) == (40, 80)
    assert changes[ORDERS, "p99"].change_text == "+40 ms (x2.00)"
    assert (changes[PRODUCTS, "p95"].base, changes[PRODUCTS, "p95"].new) == (5, 5)
    assert changes[ORDERS, "error ratio"].new == 1.0  # 3 of 300
    assert changes[ORDERS, "throughput"].new_text == "10 rps"
    assert changes["all endpoints", "p50"].new == 5  # 600 product reads, 300 orders
    assert changes["all endpoints", "p99"].new == 80


def test_sla_rows_pair_the_verdicts_of_both_runs_by_id() -> None:
    p95 = Verdict("p95", "latency", Status.PASS, 40.0, 100.0, "load", "ok", "ms")
    slower = Verdict("p95", "latency", Status.FAIL, 120.0, 100.0, "load", "too slow", "ms")
    new_only = Verdict("new-sla", "throughput", Status.PASS, 10.0, 5.0, "load", "ok", "rps")
    base = Summary(ExitCode.PASSED, (p95,))
    new = Summary(ExitCode.FAILED, (slower, new_only))

    rows = compare_runs(scenario([]), shop_run(40), shop_run(80), base, new).slas

    assert [(r.subject, r.base_status, r.new_status, r.change_text) for r in rows] == [
        ("p95", "pass", "fail", "+80 ms (x3.00)"),
        ("new-sla", "absent", "pass", "-"),
    ]


def test_a_comparison_reads_back_as_written_and_the_report_shows_it(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)
    hostile = Change(EVIL, "p50", "ms", 1.0, 2.0)
    written = Comparison("rolling-deploy", "base-run", "run", (hostile,), ())
    write_comparison(run, written)

    html = render_report(build_report(load_timeline(run), None, read_comparison(run)), "")

    assert read_comparison(run) == written
    assert "<h2>Compared with baseline base-run</h2>" in html
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>p50</td>" in html
    assert EVIL not in html


@pytest.mark.parametrize("content", ["{", "[]", '{"schema_version": 1}'])
def test_a_damaged_comparison_is_an_error_naming_the_file(tmp_path: Path, content: str) -> None:
    (tmp_path / COMPARISON).write_text(content)

    with pytest.raises(TimelineError, match=str(tmp_path / COMPARISON)):
        read_comparison(tmp_path)


def test_compare_writes_into_the_new_run_and_refuses_another_scenario(tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", cluster=False)
    new = write_run(tmp_path / "new", cluster=False)

    comparison = compare_folders(base, new)

    assert json.loads((new / COMPARISON).read_text())["base_run"] == "base"
    assert comparison.new_run == "new"
    rollout = by_key(comparison)["order", "rollout duration"]  # started, never settled
    assert (rollout.base_text, rollout.new_text, rollout.change_text) == ("-", "-", "-")
    assert "Compared with baseline base" in (new / "report.html").read_text()
    info = read_run_info(base)
    write_run_info(base, info.model_copy(update={"scenario_name": "smoke"}))
    with pytest.raises(ConfigError, match=r"BASE_RUN .*: a run of scenario 'smoke', not 'rolling"):
        compare_folders(base, new)


def test_compare_names_the_folder_that_is_no_run_folder(tmp_path: Path) -> None:
    new = write_run(tmp_path / "new", cluster=False)

    with pytest.raises(ConfigError) as info:
        compare_folders(tmp_path / "empty", new)

    assert str(info.value).startswith(f"BASE_RUN {tmp_path / 'empty'}: {tmp_path / 'empty'} is")
    assert "not a run folder: run.json is missing" in str(info.value)
