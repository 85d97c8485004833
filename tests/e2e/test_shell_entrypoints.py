"""The issue's proof for `sh -c` entrypoints: on termination a container runtime signals
PID 1 only, and a shell as PID 1 that neither `exec`s the app nor traps SIGTERM drops
the signal (the kernel gives a namespace's init no default actions). The app never
drains; it is SIGKILLed when the grace period ends, and the rolling deploy takes that
long. The same manifest with `exec` passes. Two `slagate run --sandbox` runs (~40 s each).
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

GRACE_S = 15
"""The order pods' grace period: what a pod that ignores SIGTERM lives after its
deletion, far above what a draining one needs (preStop 2 s, then a drain of < 1 s)."""
BOUND_S = 10
"""The rollout bound: a new pod's start (about 2 s) and an old pod's preStop and drain
(about 3 s) fit with room to spare; the full grace period alone does not."""

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
  - {{kind: rollout_restart, deployment: order, at: 4s, timeout: 40s}}
slas:
  - {{id: no-failed-requests-during-rollout, kind: failed_requests, max: 0, window: rollout}}
  - {{id: rollout-within-bound, kind: rollout_duration, deployment: order, max: {BOUND_S}s}}
"""


def shell_overlay(tmp_path: Path, script: str) -> Path:
    """The sandbox overlay with the order container started by ``sh -c script``; the
    manifest's args become the script's "$@"."""

    def through_shell(deployment: dict[str, Any]) -> None:
        spec = deployment["spec"]["template"]["spec"]
        spec["terminationGracePeriodSeconds"] = GRACE_S
        container = spec["containers"][0]
        container["command"] = ["sh", "-c", script.format(python=sys.executable), "sh"]

    return overlay_copy(tmp_path, "order.yaml", "Deployment", through_shell)


@pytest.mark.skipif(
    not probe_isolation().available, reason=f"no PID namespaces: {probe_isolation().reason}"
)
def test_sh_c_without_exec_fails_the_rolling_deploy_and_with_exec_passes(
    tmp_path: Path,
) -> None:
    forks = shell_overlay(tmp_path / "forks", '{python} -m slagate.shop "$@"')
    code, run_dir, output = run_sandbox(tmp_path / "forks", SCENARIO, forks)

    assert code == 1, output
    found = verdicts(run_dir)
    rollout = found["rollout-within-bound"]
    assert rollout["status"] == "fail", rollout
    assert rollout["measured"] >= GRACE_S, rollout  # the old pod lived its whole grace period
    assert found["no-failed-requests-during-rollout"]["status"] == "pass", found
    pods = pd.read_parquet(run_dir / "pods")
    old = pods[pods["name"].str.startswith("order-")].pivot_table(
        index="name", columns="transition", values="t_ms", aggfunc="min"
    )
    lived_s = ((old["deleted"] - old["deleting"]) / 1000).dropna()
    assert list(lived_s) and lived_s.min() >= GRACE_S - 0.5, lived_s  # killed, not drained
    assert "containers as PID 1 in a PID namespace" in output  # the profile says so

    execs = shell_overlay(tmp_path / "execs", 'exec {python} -m slagate.shop "$@"')
    code, run_dir, output = run_sandbox(tmp_path / "execs", SCENARIO, execs)

    assert code == 0, output
    assert {v["status"] for v in verdicts(run_dir).values()} == {"pass"}, verdicts(run_dir)
