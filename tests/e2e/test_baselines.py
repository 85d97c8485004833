"""Baselines, relative SLAs, compare and history on two real runs of the local shop.

The second run's order service waits ``LATENCY_MS`` more in every business request
(``--latency-ms``, a slow dependency; the product service is unchanged). Margins from that
mechanism: the wait is wall time that no other load on the machine shortens, so every
POST /orders of the second run takes at least ``LATENCY_MS`` plus its own work, and its p50
grows by ``LATENCY_MS`` less at most the difference in that work between the runs, which
contention keeps to tens of ms (no CPU is burnt on purpose in either run); the test asks
for half of ``LATENCY_MS``. The relative SLA allows x1.3: it passes only if the first
run's p50 were above ``LATENCY_MS / 0.3`` (2 s, where an idle machine shows ~40 ms).
A product read touches no waiting code: its p50 moves by contention only. (A CPU burn,
as an earlier version used, is not such a mechanism: its wall time follows whatever else
runs, and a busier first run passed the x1.3 SLA.) The other order endpoints are not
asserted on: they get a handful of samples per run.

Two runs of ~15 s of load each are shared by every test here (module fixture); the history
test copies them into 20 run folders rather than running more.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from slagate.errors import ExitCode
from slagate.run import check_run
from slagate.shop.launching import LocalShop, ServiceOptions
from slagate.sla.verdict import Status
from tests.e2e.browsing import need_chromium, open_page
from tests.e2e.conftest import slagate

pytestmark = pytest.mark.e2e

LATENCY_MS = 600.0
ORDER_WRITES = "POST /orders"  # 3 of 17 tasks: the order endpoint with the most samples
PRODUCT_READS = ("GET /products/[id]", "GET /products")
SCENARIO = """\
name: latency-compare
target: {host: http://127.0.0.1:9, services: {product: http://127.0.0.1:9}}
load:
  locustfile: locustfiles/orders.py
  shape: constant
  users: 4
  spawn_rate: 4
  duration: 15s
drain: 1s
slas:
  - {id: availability, kind: availability, min_percent: 99}
  - {id: p95, kind: latency, percentile: 95, max_ms: 5000}
"""
RELATIVE = """\
  - {id: orders-p50-vs-baseline, kind: latency, endpoint: POST /orders, percentile: 50,
     max_ratio_to_baseline: 1.3}
"""
HOVER_PROBE = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var charts = document.querySelectorAll("div.chart");
  var drag = charts[0].querySelector(".nsewdrag"), box = drag.getBoundingClientRect();
  drag.dispatchEvent(new MouseEvent("mousemove", {bubbles: true,
    clientX: box.left + box.width / 2, clientY: box.top + box.height / 2}));
  setTimeout(function () {
    var seen = Array.prototype.map.call(charts, function (c) {
      var first = (c._hoverdata || []).filter(function (p) { return p.curveNumber === 0; });
      return {hovered: first.length ? first[0].x : null, seconds: c.data[0].x}; });
    document.body.setAttribute("data-hovered", JSON.stringify(seen));
  }, 500);
}, 500); });
</script></body>"""


@dataclass(frozen=True)
class Runs:
    reports: Path
    base: Path
    new: Path
    base_result: dict[str, object]
    new_result: dict[str, object]


def _run_on_shop(tmp: Path, reports: Path, latency_ms: float, *extra: str) -> tuple[Path, dict]:
    scenario = tmp / "relative.yaml"
    order = ServiceOptions(latency_ms=latency_ms)
    with LocalShop.start(tmp / f"shop-{latency_ms:g}", order=order) as shop:
        before = set(reports.iterdir()) if reports.exists() else set()
        done = slagate(
            ["run", str(scenario), "--reports", str(reports), "--host", shop.order_url,
             "--service", f"product={shop.product_url}", *extra]
        )  # fmt: skip
    assert done.returncode == 1, done.stderr  # both fail the relative SLA: no data, too slow
    (run_dir,) = set(reports.iterdir()) - before
    return run_dir, json.loads((run_dir / "summary.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    tmp = tmp_path_factory.mktemp("baselines")
    (tmp / "relative.yaml").write_text(SCENARIO + RELATIVE)
    (tmp / "absolute.yaml").write_text(SCENARIO)
    reports = tmp / "reports"
    base, base_summary = _run_on_shop(tmp, reports, 0.0)
    new, new_summary = _run_on_shop(tmp, reports, LATENCY_MS, "--baseline", str(base))
    yield Runs(reports, base, new, base_summary, new_summary)


def _verdict(summary: dict, sla_id: str) -> dict:
    (found,) = [v for v in summary["verdicts"] if v["id"] == sla_id]  # type: ignore[index]
    return found  # type: ignore[no-any-return]


def test_a_relative_sla_without_a_baseline_has_no_data_and_fails_on_a_slower_build(
    runs: Runs,
) -> None:
    first = _verdict(runs.base_result, "orders-p50-vs-baseline")
    assert first["status"] == "no-data"
    assert "no baseline run to compare with (no --baseline given)" in first["message"]

    second = _verdict(runs.new_result, "orders-p50-vs-baseline")
    base_p50 = second["threshold"] / 1.3
    assert second["status"] == "fail", second["message"]
    assert second["measured"] - base_p50 >= LATENCY_MS / 2
    assert "1.3 x " in second["message"] and runs.base.name in second["message"]
    assert _verdict(runs.new_result, "availability")["status"] == "pass"


def test_compare_shows_the_order_endpoints_slower_and_the_product_reads_not(runs: Runs) -> None:
    done = slagate(["compare", str(runs.base), str(runs.new)])

    assert done.returncode == 0, done.stderr
    assert "POST /orders" in done.stdout and "GET /products/[id]" in done.stdout
    comparison = json.loads((runs.new / "comparison.json").read_text())
    p50 = {c["subject"]: c for c in comparison["changes"] if c["what"] == "p50"}
    order_growth = p50[ORDER_WRITES]["new"] - p50[ORDER_WRITES]["base"]
    assert order_growth >= LATENCY_MS / 2, p50
    for endpoint in PRODUCT_READS:
        growth = p50[endpoint]["new"] - p50[endpoint]["base"]
        assert growth < order_growth / 2, (endpoint, p50)
    slas = {c["subject"]: c for c in comparison["slas"]}
    assert slas["orders-p50-vs-baseline"]["new_status"] == "fail"
    report = (runs.new / "report.html").read_text()
    assert f"Compared with baseline {runs.base.name}" in report


def test_latest_pass_finds_the_newest_passing_run_of_the_scenario(runs: Runs) -> None:
    """In-process (``check_run`` is what `slagate check` calls): no interpreter to start."""
    passing = check_run(runs.base, runs.reports.parent / "absolute.yaml")
    assert passing.exit_code is ExitCode.PASSED

    judged = check_run(runs.new, baseline="latest-pass")

    assert judged.exit_code is ExitCode.FAILED
    (verdict,) = [v for v in judged.verdicts if v.id == "orders-p50-vs-baseline"]
    assert verdict.status is Status.FAIL
    assert f"in baseline {runs.base.name})" in verdict.message


def _copies(runs: Runs, history: Path, count: int) -> None:
    """``count`` run folders made from the two real ones: new names and start times, and
    a p95 that drifts upwards across them."""
    for i in range(count):
        source = (runs.base, runs.new)[i % 2]
        target = history / f"20261204T10{i:02d}00Z-latency-compare"
        shutil.copytree(source, target)
        info = json.loads((target / "run.json").read_text())
        info["run_id"], info["started_ms"] = target.name, info["started_ms"] + i * 60_000
        (target / "run.json").write_text(json.dumps(info))
        summary = json.loads((target / "summary.json").read_text())
        for verdict in summary["verdicts"]:
            if verdict["id"] == "p95" and verdict["measured"] is not None:
                verdict["measured"] *= 1 + i / 10
        (target / "summary.json").write_text(json.dumps(summary))


def test_history_of_20_run_folders_opens_in_chromium_without_console_errors(
    runs: Runs, tmp_path: Path
) -> None:
    need_chromium()
    history = tmp_path / "history"
    _copies(runs, history, 19)
    (history / "20261204T120000Z-damaged").mkdir()
    (history / "20261204T120000Z-damaged" / "run.json").write_text("{not json")

    done = slagate(["history", "--reports", str(history), "--scenario", "latency-compare"])

    assert done.returncode == 0, done.stderr
    assert "20 run folders" in done.stdout and "damaged" in done.stdout
    page = open_page(history / "index.html")
    assert page.console == []
    assert page.dom.count('class="main-svg"') >= 2 * 2  # 2 SLA charts drawn (+ hover layer)
    assert page.dom.count("/report.html") == 19
    assert (history / "plotly-basic.min.js").exists()


def test_a_run_report_opens_in_chromium_and_hover_shows_one_instant_everywhere(
    runs: Runs, tmp_path: Path
) -> None:
    need_chromium()
    probe = tmp_path / "report-probe.html"
    probe.write_text((runs.new / "report.html").read_text().replace("</body>", HOVER_PROBE))

    page = open_page(runs.new / "report.html")
    probed = open_page(probe)

    assert page.console == [] and probed.console == []
    charts = json.loads(
        probed.dom.split('data-hovered="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    )
    assert len(charts) == 2  # traffic and latency (no cluster)
    instant = charts[0]["hovered"]
    assert instant is not None
    for chart in charts[1:]:  # the same second, or the nearest one a chart has data for
        nearest = min(abs(x - instant) for x in chart["seconds"])  # a gap may have two
        assert chart["hovered"] is not None, chart
        assert abs(chart["hovered"] - instant) == pytest.approx(nearest), (instant, chart)
