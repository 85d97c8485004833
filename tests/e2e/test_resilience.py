"""The issue's resilience proof: ``scenarios/resilience.yaml`` on the ``istio`` data plane.

The scenario runs twice, each on its own ``slagate run --sandbox --data-plane istio`` (two
sandboxes cost less than one shared daemon here: ~45 s each, against ~125 s for a daemon
and two runs against it, whose second run met the first one's scaled-out order pods):
with the shop, a bad product canary and the circuit breaker's DestinationRule it passes
(the canary is ejected after its first 500); with the canary alone, the same scenario
fails (a third of the product calls reach it). ~100 s (150 s with a CPU hog on a busy
machine).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from slagate.errors import ExitCode
from tests.e2e.conftest import REPO, slagate
from tests.e2e.test_sandbox_runs import verdicts

pytestmark = pytest.mark.e2e

OVERLAY = REPO / "deploy" / "shop" / "sandbox"
RESILIENCE = REPO / "deploy" / "shop" / "resilience"
SCENARIO = REPO / "scenarios" / "resilience.yaml"


def run(reports: Path, *manifests: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    options = [item for path in (OVERLAY, *manifests) for item in ("--manifests", str(path))]
    done = slagate(
        ["run", str(SCENARIO), "--sandbox", "--data-plane", "istio", *options,
         "--reports", str(reports)],
        timeout=240,
    )  # fmt: skip
    runs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(runs) == 1, done.stdout + done.stderr
    return done, runs[0]


def ejections(run_dir: Path) -> list[str]:
    log = run_dir / "sandbox" / "proxy.log"
    return [line for line in log.read_text().splitlines() if "(outlier detection)" in line]


def test_outlier_detection_keeps_the_order_sla_and_without_it_the_sla_fails(
    tmp_path: Path,
) -> None:
    guarded, guarded_dir = run(tmp_path / "with-rule", RESILIENCE)
    exposed, exposed_dir = run(tmp_path / "without-rule", RESILIENCE / "product-canary.yaml")

    assert guarded.returncode == ExitCode.PASSED, guarded.stdout + guarded.stderr
    assert {v["status"] for v in verdicts(guarded_dir).values()} == {"pass"}
    ejected = ejections(guarded_dir)
    assert len(ejected) == 1, ejected  # the canary, once: the 3 min ejection outlasts the run
    assert exposed.returncode == ExitCode.FAILED, exposed.stdout + exposed.stderr
    failed = verdicts(exposed_dir)["order-creation-failures"]
    assert failed["status"] == "fail"
    assert failed["measured"] >= 10  # a third of ~70 orders; the line is 5
    assert ejections(exposed_dir) == []
    # the mesh's own statistic, through the sandbox's Prometheus, says the same
    assert verdicts(guarded_dir)["circuit-breaker-opened"]["measured"] == 1
    assert verdicts(exposed_dir)["circuit-breaker-opened"]["measured"] == 0
