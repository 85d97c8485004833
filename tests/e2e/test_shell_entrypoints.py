"""The issue's proof for `sh -c` entrypoints: on termination a container runtime signals
PID 1 only, and a shell as PID 1 that neither `exec`s the app nor traps SIGTERM drops
the signal (the kernel gives a namespace's init no default actions). The app never
drains; it is SIGKILLed when the grace period ends, and its rolling deploy takes that
long. One `slagate run --sandbox` (~60 s) rolls two Deployments started by the same
shell script, with and without `exec`, and judges each rollout by the same bound.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from slagate.sandbox.kubelet.pidnamespaces import probe_isolation
from tests.e2e.test_sandbox_runs import overlay_copy, run_sandbox, verdicts

pytestmark = pytest.mark.e2e

GRACE_S = 18
"""Both Deployments' grace period: what a pod that ignores SIGTERM lives after its
deletion, far above what a draining one needs (preStop 2 s, then a drain of < 1 s)."""
BOUND_S = 12
"""The rollout bound: the new order pod's start (about 3 s) and the old one's preStop and
drain (about 3 s) fit with room to spare; the grace period alone does not. Without the
HPA, which the new pod's start-up CPU would make scale out in the middle."""

SCENARIO = f"""\
name: shell-entrypoint-e2e
target:
  kubernetes:
    service: order
    services: {{product: product}}
    allow_mutations_in: [default]
load:
  shape: constant
  users: 4
  spawn_rate: 4
  duration: 26s
actions:
  - {{kind: rollout_restart, deployment: order, at: 3s, timeout: 40s}}
  - {{kind: rollout_restart, deployment: product, at: 3s, timeout: 40s}}
slas:
  - {{id: no-failed-requests-during-rollout, kind: failed_requests, max: 0, window: rollout}}
  - {{id: order-exec, kind: rollout_duration, deployment: order, max: {BOUND_S}s}}
  - {{id: product-no-exec, kind: rollout_duration, deployment: product, max: {BOUND_S}s}}
"""


def through_shell(tmp_path: Path, file: str, script: str) -> Path:
    """The sandbox overlay with ``file``'s Deployment started by ``sh -c script``; the
    manifest's args become the script's "$@"."""

    def change(deployment: dict[str, Any]) -> None:
        spec = deployment["spec"]["template"]["spec"]
        spec["terminationGracePeriodSeconds"] = GRACE_S
        container = spec["containers"][0]
        container["command"] = ["sh", "-c", script.format(python=sys.executable), "sh"]

    return overlay_copy(tmp_path, file, "Deployment", change)


@pytest.mark.skipif(
    not probe_isolation().available, reason=f"no PID namespaces: {probe_isolation().reason}"
)
def test_sh_c_without_exec_fails_the_rolling_deploy_and_with_exec_passes(
    tmp_path: Path,
) -> None:
    through_shell(tmp_path, "order.yaml", 'exec {python} -m slagate.shop "$@"')
    manifests = through_shell(tmp_path, "product.yaml", '{python} -m slagate.shop "$@"')
    (manifests / "order-hpa.yaml").unlink()  # one order pod: the rollout restarts only it

    code, run_dir, output = run_sandbox(tmp_path, SCENARIO, manifests)

    assert code == 1, output
    found = verdicts(run_dir)
    assert found["order-exec"]["status"] == "pass", found["order-exec"]
    failed = found["product-no-exec"]
    assert failed["status"] == "fail", failed
    assert failed["measured"] >= GRACE_S, failed  # an old pod lived its whole grace period
    assert "did not exit on SIGTERM and was most likely SIGKILLed" in failed["message"]
    assert found["no-failed-requests-during-rollout"]["status"] == "pass", found
    pods = pd.read_parquet(run_dir / "pods")
    spans = pods.pivot_table(index="name", columns="transition", values="t_ms", aggfunc="min")
    lived_s = ((spans["deleted"] - spans["deleting"]) / 1000).dropna()
    product, order = (lived_s[lived_s.index.str.startswith(p)] for p in ("product-", "order-"))
    assert len(product) == 2 and product.min() >= GRACE_S - 0.5, lived_s  # SIGKILLed
    assert len(order) == 1 and order.max() < GRACE_S / 2, lived_s  # drained after preStop
    said = " ".join(output.split())  # the profile's line wraps at the terminal's width
    assert "containers as PID 1 in a PID namespace" in said  # the profile says so
