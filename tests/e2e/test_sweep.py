"""`slagate sweep` end to end: two cells, each a real run on its own fresh sandbox.

One sweep (~45 s: two sandbox starts and two 6 s loads) proves the grid reaches each
sandbox (run.json's profile per cell), the scenario's ``sandbox:`` block reaches it under
the cell's values, each cell keeps its run folder, and the sweep writes its summary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, slagate

pytestmark = pytest.mark.e2e

OVERLAY = REPO / "deploy" / "shop" / "sandbox"
SCENARIO = """\
name: sweep-e2e
target:
  kubernetes:
    service: order
    services: {product: product}
sandbox:
  endpoint_propagation_delay_s: 500ms   # the scenario's assumption, under every cell
load:
  shape: constant
  users: 4
  spawn_rate: 4
  duration: 6s
slas:
  - {id: availability, kind: availability, min_percent: 99, window: load}
  - {id: ready-endpoints, kind: ready_endpoints, service: order, min: 1, window: load}
"""


def test_sweep_of_two_data_planes(tmp_path: Path) -> None:
    scenario = tmp_path / "sweep.yaml"
    scenario.write_text(SCENARIO)
    reports = tmp_path / "reports"
    args = ["sweep", str(scenario), "--sandbox", "--manifests", str(OVERLAY)]
    args += ["--vary", "data_plane=per-request,kube-proxy", "--reports", str(reports)]
    proc = slagate(args, timeout=240)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    (sweep_dir,) = reports.iterdir()
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    assert [c["settings"] for c in summary["cells"]] == [
        {"data_plane": "per-request"},
        {"data_plane": "kube-proxy"},
    ]
    for cell, plane in zip(summary["cells"], ("per-request", "kube-proxy"), strict=True):
        run = json.loads((sweep_dir / cell["run_dir"] / "run.json").read_text())
        profile = run["cluster"]["sandbox_profile"]
        assert (profile["data_plane"], profile["endpoint_propagation_delay_s"]) == (plane, 0.5)
        assert (sweep_dir / cell["run_dir"] / "report.html").is_file()
        assert cell["exit_code"] == 0, cell
    sentences = {s["id"]: s["sentence"] for s in summary["slas"]}
    assert sentences == {
        "availability": "availability holds in all 2 cells",
        "ready-endpoints": "ready-endpoints holds in all 2 cells",
    }
    assert "cell 2/2: PASS exit 0" in output
    assert "availability holds in all 2 cells" in proc.stdout
    assert "sweep-e2e" in (sweep_dir / "sweep.html").read_text()
