"""`slagate sweep` end to end, and the issue's proof of where a rolling deploy's verdict
carries over: the shipped rolling deploy (shortened) swept over three data planes, each
cell a real run on its own fresh sandbox (~90 s: three sandbox starts, three 20 s loads).

It holds behind kube-proxy and behind an Istio sidecar, with the rolling update's
invariants (maxSurge 1, maxUnavailable 0) kept under load in both, and fails behind an
ALB; the sweep says why in the profile's own figure: the shop's 2 s preStop against the
ALB's 7 s deregistration propagation. The scenario's ``sandbox:`` block reaches every cell
under the cell's value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import slagate
from tests.e2e.test_load_balancer_runs import short_rolling, two_order_replicas
from tests.e2e.test_sandbox_runs import assert_rolling_invariants

pytestmark = pytest.mark.e2e

RACE = "preStop 2.0 s < aws-alb's deregistration propagation 7.0 s"


PLANES = ("kube-proxy", "istio", "aws-alb")


def test_a_rolling_deploy_holds_behind_kube_proxy_and_istio_and_fails_behind_an_alb(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "sweep.yaml"
    # the scenario's own assumption, under every cell: endpoint changes after 0.5 s (under
    # kube-proxy, plus its jitter of up to 0.5 s: at most 1 s against the 2 s preStop)
    scenario.write_text(
        short_rolling().replace(
            "load:\n", "sandbox:\n  endpoint_propagation_delay_s: 500ms\nload:\n", 1
        )
    )
    reports = tmp_path / "reports"
    args = ["sweep", str(scenario), "--sandbox", "--manifests", str(two_order_replicas(tmp_path))]
    args += ["--vary", f"data_plane={','.join(PLANES)}", "--reports", str(reports)]

    proc = slagate(args, timeout=400)

    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output  # an SLA failed in a cell
    (sweep_dir,) = reports.iterdir()
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    cells = summary["cells"]
    assert [c["settings"] for c in cells] == [{"data_plane": plane} for plane in PLANES]
    assert [c["exit_code"] for c in cells] == [0, 0, 1], cells
    for cell, plane in zip(cells, PLANES, strict=True):
        run_dir = sweep_dir / cell["run_dir"]
        run = json.loads((run_dir / "run.json").read_text())
        profile = run["cluster"]["sandbox_profile"]
        assert (profile["data_plane"], profile["endpoint_propagation_delay_s"]) == (plane, 0.5)
        assert (run_dir / "report.html").is_file()
        if cell["exit_code"] == 0:  # the two replicas were replaced one at a time, under load
            assert_rolling_invariants(run_dir, replicas=2)
    alb_dir = sweep_dir / cells[2]["run_dir"]
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
        "no-failed-requests-during-rollout holds at data_plane=kube-proxy and istio; "
        "fails at data_plane=aws-alb: "
    ), flipped
    assert RACE in flipped
    assert "cell 3/3:" in output and flipped in proc.stdout
    assert "rolling-e2e" in (sweep_dir / "sweep.html").read_text()
