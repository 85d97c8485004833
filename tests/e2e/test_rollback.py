"""The safety-stop and rollback proof: a broken set_image on the sandbox.

One `slagate run --sandbox` (~1 minute): the new revision's image cannot be pulled, so
the rollout cannot complete within its SLA's 6 s; that SLA has ``abort_on_fail``, so the
load stops within 2 s of the breach (not at its planned end), the verdict names the cause
from the new pod's Events, the run exits 1 with that SLA marked as the cause, and, as the
action says ``on_fail: rollback``, slagate undoes the rollout like `kubectl rollout undo`:
the Deployment is back on the previous template (its first ReplicaSet, now revision 3)
with every replica ready.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.e2e.test_live import STOP_WITHIN_MS
from tests.e2e.test_sandbox_runs import run_sandbox, summary_of, verdicts

pytestmark = pytest.mark.e2e

BROKEN = "ghcr.io/slagate/slagate-shop-broken:0.2.0"
ROLLBACK = f"""\
name: rollback-e2e
target:
  kubernetes:
    service: order
    services: {{product: product}}
    allow_mutations_in: [default]
load:
  shape: constant
  users: 4
  spawn_rate: 4
  duration: 18s
actions:
  - {{kind: set_image, deployment: order, container: order, image: "{BROKEN}",
     at: 3s, timeout: 10s, on_fail: rollback}}
slas:
  - {{id: rollout-within-6s, kind: rollout_duration, deployment: order, max: 6s,
     abort_on_fail: true}}
  - {{id: no-failed-requests, kind: failed_requests, max: 0, window: load}}
"""


def test_broken_image_stops_the_load_names_the_cause_and_is_rolled_back(tmp_path: object) -> None:
    code, run_dir, output = run_sandbox(tmp_path, ROLLBACK)  # type: ignore[arg-type]
    assert code == 1, output

    found = verdicts(run_dir)
    stuck = found["rollout-within-6s"]
    assert stuck["status"] == "fail", stuck
    assert "never completed" in stuck["message"]
    assert "cause: image cannot be pulled (ImagePullBackOff) on " in stuck["message"]
    assert f'Failed to pull image "{BROKEN}"' in stuck["message"]
    # maxUnavailable 0: the old pods served throughout; the rollback changed no verdict
    assert found["no-failed-requests"]["status"] == "pass", found["no-failed-requests"]

    [rollback] = summary_of(run_dir)["rollbacks"]
    assert rollback["reason"] == "to revision 1: the run failed (rollout-within-6s did not pass)"
    assert rollback["outcome"] == "ok revision 3", rollback
    assert "rollback: rolled back deployment/order to revision 1: ok revision 3" in output

    events = pd.read_parquet(run_dir / "events")
    harness = events[events["source"] == "harness"].sort_values("t_ms", kind="stable")
    kinds = list(harness["kind"])
    assert kinds[-3:] == ["run_end", "rollback_start", "rollback_end"], kinds
    assert kinds.index("action_end") < kinds.index("run_end")

    # the safety stop: within 2 s of the breach (the rollout's start + 6 s, when the
    # rollout's time was up; STOP_WITHIN_MS, tests/e2e/test_live.py), long before the
    # load's planned 18 s, and named as the cause
    assert summary_of(run_dir)["stopped_by"] == "rollout-within-6s"
    at = {kind: int(harness[harness["kind"] == kind]["t_ms"].iloc[0]) for kind in kinds}
    breach_ms = at["action_start"] + 6000
    abort = harness[harness["kind"] == "abort"]
    assert list(abort["name"]) == ["abort_on_fail"], abort.to_dict("records")
    assert "rollout-within-6s" in abort["message"].iloc[0]
    assert 0 <= at["load_stop"] - breach_ms <= STOP_WITHIN_MS, at

    # back on the previous template: revision 1's ReplicaSet is revision 3, all ready
    replicas = pd.read_parquet(run_dir / "replicas").sort_values("t_ms", kind="stable")
    sets = replicas[replicas["kind"] == "ReplicaSet"]
    first_set = sets[sets["revision"] == "1"]["name"].iloc[0]
    broken_set = sets[sets["revision"] == "2"]["name"].iloc[0]
    assert set(sets[sets["revision"] == "3"]["name"]) == {first_set}
    rollback_end = int(harness[harness["kind"] == "rollback_end"]["t_ms"].iloc[0])
    deployment = replicas[(replicas["kind"] == "Deployment") & (replicas["name"] == "order")]
    last = deployment[deployment["t_ms"] <= rollback_end].iloc[-1]
    assert (last["revision"], bool(last["rollout_complete"])) == ("3", True)
    assert last["ready"] == last["desired"] == last["current"], last.to_dict()
    pods = pd.read_parquet(run_dir / "pods")
    broken_pods = pods[pods["owner"] == broken_set]
    assert set(broken_pods[broken_pods["t_ms"] <= rollback_end]["transition"]) >= {
        "added",
        "deleted",
    }
    assert "Rollbacks" in (run_dir / "report.html").read_text()
