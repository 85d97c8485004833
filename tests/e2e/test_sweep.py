"""`slagate sweep` end to end, and the issue's proof of where a rolling deploy's verdict
carries over: the shipped rolling deploy (shortened) swept over two data planes, each cell
a real run on its own fresh sandbox (~70 s: two sandbox starts, two 20 s loads).

It holds behind an Istio sidecar and fails behind an ALB, and the sweep says why in the
profile's own figure: the shop's 2 s preStop against the ALB's 7 s deregistration
propagation. The scenario's ``sandbox:`` block reaches both cells under the cell's value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import slagate
from tests.e2e.test_load_balancer_runs import short_rolling, two_order_replicas

pytestmark = pytest.mark.e2e

RACE = "preStop 2.0 s < aws-alb's deregistration propagation 7.0 s"


def test_a_rolling_deploy_holds_behind_istio_and_fails_behind_an_alb(tmp_path: Path) -> None:
    scenario = tmp_path / "sweep.yaml"
    # the scenario's own assumption, under every cell: endpoint changes after 0.5 s
    scenario.write_text(
        short_rolling().replace(
            "load:\n", "sandbox:\n  endpoint_propagation_delay_s: 500ms\nload:\n", 1
        )
    )
    reports = tmp_path / "reports"
    args = ["sweep", str(scenario), "--sandbox", "--manifests", str(two_order_replicas(tmp_path))]
    args += ["--vary", "data_plane=istio,aws-alb", "--reports", str(reports)]

    proc = slagate(args, timeout=300)

    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output  # an SLA failed in a cell
    (sweep_dir,) = reports.iterdir()
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    cells = summary["cells"]
    assert [c["settings"] for c in cells] == [{"data_plane": "istio"}, {"data_plane": "aws-alb"}]
    assert [c["exit_code"] for c in cells] == [0, 1], cells
    for cell, plane in zip(cells, ("istio", "aws-alb"), strict=True):
        run = json.loads((sweep_dir / cell["run_dir"] / "run.json").read_text())
        profile = run["cluster"]["sandbox_profile"]
        assert (profile["data_plane"], profile["endpoint_propagation_delay_s"]) == (plane, 0.5)
        assert (sweep_dir / cell["run_dir"] / "report.html").is_file()
    alb_dir = sweep_dir / cells[1]["run_dir"]
    alb = json.loads((alb_dir / "summary.json").read_text())
    failed = {v["id"]: v for v in alb["verdicts"]}["no-failed-requests-during-rollout"]
    assert failed["status"] == "fail" and RACE in failed["message"], failed
    alb_profile = json.loads((alb_dir / "run.json").read_text())["cluster"]["sandbox_profile"]
    assert alb_profile["target_group"]["deregistration_propagation_s"] == 7.0
    stated = "data plane aws-alb (a new target gets requests after 5 health checks 1 s apart"
    assert stated in (alb_dir / "report.html").read_text()
    sentences = {s["id"]: s["sentence"] for s in summary["slas"]}
    flipped = sentences["no-failed-requests-during-rollout"]
    assert flipped.startswith(
        "no-failed-requests-during-rollout holds at data_plane=istio; fails at data_plane=aws-alb: "
    ), flipped
    assert RACE in flipped
    assert "cell 2/2:" in output and flipped in proc.stdout
    assert "rolling-e2e" in (sweep_dir / "sweep.html").read_text()
