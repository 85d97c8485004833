"""Undoing a rollout against a live sandbox API server; the test plays the controllers."""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from slagate.errors import ExitCode, KubernetesError
from slagate.kube.acting import ActionRunner, Actor, RollbackTarget
from slagate.kube.connecting import KubeConnection
from slagate.kube.rolling_back import roll_back, undo_rollout
from slagate.kube.streaming import StopSignal
from slagate.kube.watching import ClusterRecorder
from slagate.run.cluster import ClusterSession
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.scenario import SetImageAction
from slagate.timeline import read_table
from tests.kube.objects import DEPLOYMENTS, NS, REPLICASETS, Cluster, deployment
from tests.kube.polling import eventually

REVISION = "deployment.kubernetes.io/revision"


def _with_image(template: dict[str, Any], image: str, template_hash: str) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["spec"]["containers"][0]["image"] = image
    changed["metadata"]["labels"]["pod-template-hash"] = template_hash
    return changed


def _replica_set(name: str, revision: str, template: dict[str, Any], uid: str) -> dict[str, Any]:
    labels = template["metadata"]["labels"]
    return {
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {REVISION: revision, "team": f"from-{name}"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "order", "uid": uid}
            ],
        },
        "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template},
    }


def _two_revisions(cluster: Cluster, paused: bool = False) -> dict[str, Any]:
    """order at revision 2 (image shop:2, RS order-bbb) after revision 1 (shop:1, order-aaa)."""
    body = deployment()
    original = body["spec"]["template"]
    body["metadata"]["annotations"] = {REVISION: "2", "team": "deployment's own"}
    body["spec"]["template"] = _with_image(original, "shop:2", "bbb")
    del body["spec"]["template"]["metadata"]["labels"]["pod-template-hash"]
    body["spec"]["paused"] = paused
    uid = cluster.create(DEPLOYMENTS, body)["metadata"]["uid"]
    cluster.create(
        REPLICASETS, _replica_set("order-aaa", "1", _with_image(original, "shop:1", "aaa"), uid)
    )
    cluster.create(
        REPLICASETS, _replica_set("order-bbb", "2", _with_image(original, "shop:2", "bbb"), uid)
    )
    # a ReplicaSet of revision 1 that another owner controls is never taken
    cluster.create(
        REPLICASETS, _replica_set("other-aaa", "1", _with_image(original, "x:9", "ccc"), "x")
    )
    return body


def test_undo_restores_the_revisions_template_and_annotations_like_kubectl(
    connection: KubeConnection,
    cluster: Cluster,
    store: ObjectStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _two_revisions(cluster)
    actor = Actor(connection.api_client, NS)
    with caplog.at_level(logging.DEBUG, logger="slagate.sandbox.apiserver"):
        undo = undo_rollout(actor, "order", "1")

    assert (undo.patched, undo.message) == (True, "deployment.apps/order rolled back")
    stored = store.get(DEPLOYMENTS, NS, "order")
    containers = stored["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["shop:1", "proxy:1"]
    assert "pod-template-hash" not in stored["spec"]["template"]["metadata"]["labels"]
    # the controller's revision stays; the other annotations come from the ReplicaSet
    assert stored["metadata"]["annotations"] == {REVISION: "2", "team": "from-order-aaa"}
    assert any(
        "PATCH /apis/apps/v1/namespaces/shop/deployments/order" in r.getMessage()
        for r in caplog.records
    )


def test_undo_to_the_current_template_is_skipped(
    connection: KubeConnection, cluster: Cluster
) -> None:
    _two_revisions(cluster)
    undo = undo_rollout(Actor(connection.api_client, NS), "order", "2")
    assert (undo.patched, undo.message) == (
        False,
        "skipped rollback (current template already matches revision 2)",
    )


@pytest.mark.parametrize(
    ("paused", "revision", "expected"),
    [
        pytest.param(False, "7", "unable to find revision 7 among its 2 ReplicaSets", id="pruned"),
        pytest.param(True, "1", "deployment order is paused: cannot roll back", id="paused"),
    ],
)
def test_undo_refuses_what_kubectl_refuses(
    connection: KubeConnection,
    cluster: Cluster,
    store: ObjectStore,
    paused: bool,
    revision: str,
    expected: str,
) -> None:
    _two_revisions(cluster, paused=paused)
    with pytest.raises(KubernetesError, match=expected):
        undo_rollout(Actor(connection.api_client, NS), "order", revision)
    assert (
        store.get(DEPLOYMENTS, NS, "order")["spec"]["template"]["spec"]["containers"][0]["image"]
        == "shop:2"
    )


def test_roll_back_records_start_and_end_and_times_out_bounded(
    connection: KubeConnection, cluster: Cluster, run_dir: Path
) -> None:
    """No controller runs here: the undo is patched but never completes."""
    _two_revisions(cluster)
    target = RollbackTarget("order", "1", 0.5, "set_image deployment/order")
    started = time.monotonic()
    [outcome] = roll_back(
        connection.api_client,
        NS,
        [target],
        "the run failed (x did not pass)",
        run_dir,
        StopSignal(),
    )

    assert time.monotonic() - started < 10  # 0.5 s deadline + one request timeout at most
    assert outcome.status == "timeout"
    events = read_table(run_dir, "events")
    assert list(events["kind"]) == ["rollback_start", "rollback_end"]
    assert list(events["name"]) == ["rollback deployment/order"] * 2
    assert events["message"].iloc[0] == "to revision 1: the run failed (x did not pass)"
    assert events["message"].iloc[1].startswith("timeout after 0.5 s: ")


def test_runner_remembers_the_revision_before_a_rollback_action(
    connection: KubeConnection, cluster: Cluster, store: ObjectStore, run_dir: Path
) -> None:
    _two_revisions(cluster)
    actions = [
        SetImageAction(
            kind="set_image",
            deployment="order",
            container="app",
            image="shop:3",
            at=0,
            timeout=0.2,
            on_fail="rollback",
        ),
        SetImageAction(
            kind="set_image",
            deployment="order",
            container="app",
            image="shop:4",
            at=0.1,
            timeout=0.2,
            on_fail="rollback",
        ),
    ]
    runner = ActionRunner(connection.api_client, NS, actions, run_dir).start(time.time())
    assert runner.join(10.0)
    eventually(lambda: runner.pending, lambda n: n == 0)
    # the first action of the Deployment decides: the revision before it, 2
    assert runner.rollback_targets == [
        RollbackTarget("order", "2", 0.2, "set_image deployment/order")
    ]


def test_runner_without_on_fail_remembers_nothing(
    connection: KubeConnection, cluster: Cluster, run_dir: Path
) -> None:
    _two_revisions(cluster)
    action = SetImageAction(
        kind="set_image", deployment="order", container="app", image="shop:3", at=0, timeout=0.2
    )
    runner = ActionRunner(connection.api_client, NS, [action], run_dir).start(time.time())
    assert runner.join(10.0)
    assert runner.rollback_targets == []


def _session(connection: KubeConnection, run_dir: Path) -> tuple[ClusterSession, ActionRunner]:
    """A cluster session whose one rollout with ``on_fail: rollback`` has begun."""
    action = SetImageAction(
        kind="set_image", deployment="order", container="app", image="shop:3", at=0,
        timeout=0.3, on_fail="rollback",
    )  # fmt: skip
    actions = ActionRunner(connection.api_client, NS, [action], run_dir).start(time.time())
    recorder = ClusterRecorder(connection.api_client, NS, run_dir)
    session = ClusterSession(connection, recorder, actions, None, None, {}, run_dir)
    eventually(lambda: session.rolls_back, lambda begun: begun)
    return session, actions


@pytest.mark.parametrize(
    ("code", "undone"),
    [
        pytest.param(ExitCode.PASSED, False, id="passed-nothing-undone"),
        pytest.param(ExitCode.FAILED, True, id="failed"),
        pytest.param(ExitCode.ABORTED, True, id="aborted-from-outside"),
    ],
)
def test_the_runs_outcome_decides_the_undo(
    connection: KubeConnection,
    cluster: Cluster,
    store: ObjectStore,
    run_dir: Path,
    code: ExitCode,
    undone: bool,
) -> None:
    _two_revisions(cluster)
    session, actions = _session(connection, run_dir)

    outcomes = session.run_ended(code, "why", StopSignal())

    assert actions.pending == 0  # the running rollout wait was stopped first
    image = store.get(DEPLOYMENTS, NS, "order")["spec"]["template"]["spec"]["containers"][0]
    kinds = list(read_table(run_dir, "events")["kind"])
    if undone:
        assert image["image"] == "shop:2"  # the revision before the action: 2
        assert [o.status for o in outcomes] == ["timeout"]  # no controller runs here
        assert kinds[-2:] == ["rollback_start", "rollback_end"]
    else:
        assert (image["image"], outcomes) == ("shop:3", [])
        assert "rollback_start" not in kinds
