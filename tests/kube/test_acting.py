"""Actions against a live sandbox API server; the test plays the Deployment controller."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from slagate.kube.acting import ActionRunner, Actor, HarnessEvents, run_action
from slagate.kube.connecting import KubeConnection
from slagate.kube.streaming import StopSignal
from slagate.kube.waiting import RolloutWaiter
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.selection import Selection
from slagate.scenario import (
    DeletePodAction,
    RolloutRestartAction,
    ScaleAction,
    SetImageAction,
)
from slagate.timeline import read_table
from tests.kube.objects import (
    DEPLOYMENTS,
    NS,
    PODS,
    REPLICASETS,
    Cluster,
    deployment,
    pod,
    replica_set,
)
from tests.kube.polling import eventually

LABEL = "rollout_restart deployment/order"
NOON = 1_717_243_200.0  # 2024-06-01T12:00:00Z


def _rolled_out(cluster: Cluster) -> str:
    """Deployment order (revision 1) with RS order-aaa and two ready pods; its uid."""
    uid = cluster.create(DEPLOYMENTS, deployment(replicas=2))["metadata"]["uid"]
    cluster.create(REPLICASETS, replica_set("order-aaa", "aaa", "1", 2, uid))
    for name in ("order-aaa-1", "order-aaa-2"):
        cluster.create(PODS, pod(name, "order-aaa", "aaa"))
        cluster.pod_status(name, "Running", ready=True)
    cluster.status(DEPLOYMENTS, "order", _complete(1))
    return str(uid)


def _complete(generation: int) -> dict[str, Any]:
    return {
        "observedGeneration": generation,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
    }


def _roll_to_new_replica_set(cluster: Cluster, uid: str) -> None:
    """What the controller does after a template change: new RS and pods, revision 2."""
    cluster.create(REPLICASETS, replica_set("order-bbb", "bbb", "2", 2, uid))
    for name in ("order-bbb-1", "order-bbb-2"):
        cluster.create(PODS, pod(name, "order-bbb", "bbb"))
        cluster.pod_status(name, "Running", ready=True)

    def revision_2(body: dict[str, Any]) -> dict[str, Any]:
        body["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "2"
        return body

    cluster.modify(DEPLOYMENTS, "order", revision_2)
    cluster.status(DEPLOYMENTS, "order", _complete(2))


def _events(run_dir: Path) -> list[tuple[str, str, str]]:
    frame = read_table(run_dir, "events")
    return list(zip(frame["kind"], frame["name"], frame["message"], strict=True))


def _runner(connection: KubeConnection, run_dir: Path, *actions: Any) -> ActionRunner:
    return ActionRunner(connection.api_client, NS, list(actions), run_dir).start(time.time())


def _generation(store: ObjectStore) -> int:
    return int(store.get(DEPLOYMENTS, NS, "order")["metadata"]["generation"])


def test_rollout_restart_patches_like_kubectl(
    connection: KubeConnection,
    server: ApiServer,
    cluster: Cluster,
    store: ObjectStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _rolled_out(cluster)
    server.reset_request_counts()
    with caplog.at_level(logging.DEBUG, logger="slagate.sandbox.apiserver"):
        Actor(connection.api_client, NS, clock=lambda: NOON).restart_rollout("order")

    patch = "PATCH /apis/apps/v1/namespaces/shop/deployments/order?fieldManager=kubectl-rollout"
    assert any(patch in record.getMessage() for record in caplog.records)

    stored = store.get(DEPLOYMENTS, NS, "order")
    annotations = stored["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "2024-06-01T12:00:00Z"}
    assert stored["metadata"]["generation"] == 2
    assert server.request_counts() == {("deployments", "get"): 1, ("deployments", "patch"): 1}


def test_rollout_wait_needs_complete_status_and_old_pods_gone(
    connection: KubeConnection, cluster: Cluster, store: ObjectStore, run_dir: Path
) -> None:
    uid = _rolled_out(cluster)
    runner = _runner(
        connection, run_dir, RolloutRestartAction(kind="rollout_restart", deployment="order", at=0)
    )
    eventually(lambda: _generation(store), lambda g: g == 2)
    assert [e[0] for e in _events(run_dir)] == ["action_start"]

    _roll_to_new_replica_set(cluster, uid)
    for name in ("order-aaa-1", "order-aaa-2"):
        cluster.start_deleting(name)  # terminating: still old pods
    eventually(lambda: _events(run_dir), lambda e: len(e) >= 2)
    cluster.remove(PODS, "order-aaa-1")
    assert runner.pending == 1
    cluster.remove(PODS, "order-aaa-2")

    assert runner.join(5.0)
    assert _events(run_dir) == [
        ("action_start", LABEL, ""),
        ("rollout_complete", LABEL, "revision 2"),
        ("rollout_settled", LABEL, ""),
        ("action_end", LABEL, "ok"),
    ]
    assert [(o.status, o.message) for o in runner.outcomes] == [("ok", "ok")]


@pytest.mark.parametrize("complete", [False, True], ids=["never-complete", "old-pod-stays"])
def test_rollout_wait_times_out(
    complete: bool, connection: KubeConnection, cluster: Cluster, store: ObjectStore, run_dir: Path
) -> None:
    uid = _rolled_out(cluster)
    action = RolloutRestartAction(kind="rollout_restart", deployment="order", at=0, timeout=1.0)
    runner = _runner(connection, run_dir, action)
    eventually(lambda: _generation(store), lambda g: g == 2)
    if complete:
        _roll_to_new_replica_set(cluster, uid)
        cluster.remove(PODS, "order-aaa-1")

    assert runner.join(5.0)
    kinds = [(kind, message) for kind, _, message in _events(run_dir)]
    assert kinds[-1] == ("action_end", "timeout")
    assert kinds[-2][0] == "action_failed"
    if complete:
        assert [k for k, _ in kinds] == [
            "action_start",
            "rollout_complete",
            "action_failed",
            "action_end",
        ]
        assert kinds[-2][1] == "complete, but 1 old pods remain: order-aaa-2"
    else:
        assert kinds[-2][1] == (
            "Waiting for rollout to finish: Waiting for deployment spec update to be observed..."
        )
    ended = runner.outcomes[0]
    assert 1000 <= ended.ended_ms - ended.started_ms < 3000


def _run(connection: KubeConnection, run_dir: Path, action: Any) -> Any:
    stop = StopSignal()
    actor = Actor(connection.api_client, NS)
    waiter = RolloutWaiter(connection.api_client, NS, stop)
    return run_action(action, actor, waiter, HarnessEvents(run_dir, time.time))


def test_scale_patches_the_scale_subresource(
    connection: KubeConnection,
    server: ApiServer,
    cluster: Cluster,
    store: ObjectStore,
    run_dir: Path,
) -> None:
    _rolled_out(cluster)
    outcome = _run(
        connection, run_dir, ScaleAction(kind="scale", deployment="order", replicas=5, at=0)
    )
    assert outcome.status == "ok"
    assert store.get(DEPLOYMENTS, NS, "order")["spec"]["replicas"] == 5
    assert server.request_counts()[("deployments/scale", "patch")] == 1
    assert _events(run_dir) == [
        ("action_start", "scale deployment/order", ""),
        ("action_end", "scale deployment/order", "ok"),
    ]


def test_set_image_patches_the_container(
    connection: KubeConnection, cluster: Cluster, store: ObjectStore
) -> None:
    _rolled_out(cluster)
    Actor(connection.api_client, NS).set_image("order", "app", "shop:2")
    containers = store.get(DEPLOYMENTS, NS, "order")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("app", "shop:2"),
        ("sidecar", "proxy:1"),
    ]


def test_set_image_of_an_unknown_container_fails_with_the_known_ones(
    connection: KubeConnection, cluster: Cluster, run_dir: Path
) -> None:
    _rolled_out(cluster)
    action = SetImageAction(kind="set_image", deployment="order", container="web", image="x", at=0)
    outcome = _run(connection, run_dir, action)
    message = (
        "deployment order has no container 'web' (it has: app, sidecar); fix the set_image action"
    )
    assert (outcome.status, outcome.message) == ("error", message)
    assert [k for k, _, _ in _events(run_dir)] == ["action_start", "action_failed", "action_end"]


def test_delete_pod_by_selector_takes_a_ready_running_pod(
    connection: KubeConnection, cluster: Cluster, store: ObjectStore, run_dir: Path
) -> None:
    for name, ready in (("order-aaa-1", False), ("order-aaa-2", True), ("order-aaa-3", True)):
        cluster.create(PODS, pod(name))
        cluster.pod_status(name, "Running", ready=ready)
    cluster.start_deleting("order-aaa-3")
    action = DeletePodAction(kind="delete_pod", selector="app=order", grace_period=0, at=0)

    outcome = _run(connection, run_dir, action)

    assert outcome.status == "ok"
    names = {p["metadata"]["name"] for p in _pods(store)}
    assert names == {"order-aaa-1", "order-aaa-3"}
    assert _events(run_dir) == [
        ("action_start", "delete_pod pod/order-aaa-2", "selector app=order"),
        ("action_end", "delete_pod pod/order-aaa-2", "ok"),
    ]


def _pods(store: ObjectStore) -> list[dict[str, Any]]:
    return store.list(Selection(PODS, NS)).items


def test_delete_pod_by_name_with_grace_starts_termination(
    connection: KubeConnection, cluster: Cluster, store: ObjectStore, run_dir: Path
) -> None:
    cluster.create(PODS, pod("order-aaa-1"))
    action = DeletePodAction(kind="delete_pod", pod="order-aaa-1", grace_period=30, at=0)
    assert _run(connection, run_dir, action).status == "ok"
    meta = store.get(PODS, NS, "order-aaa-1")["metadata"]
    assert (meta["deletionGracePeriodSeconds"], "deletionTimestamp" in meta) == (30, True)


def test_delete_pod_without_a_match_fails(connection: KubeConnection, run_dir: Path) -> None:
    action = DeletePodAction(kind="delete_pod", selector="app=none", at=0)
    outcome = _run(connection, run_dir, action)
    assert outcome.status == "error"
    assert _events(run_dir) == [
        ("action_start", "delete_pod app=none", ""),
        ("action_failed", "delete_pod app=none", outcome.message),
        ("action_end", "delete_pod app=none", outcome.message),
    ]
    assert outcome.message.startswith("no running pod matches 'app=none' in namespace shop")


def test_runner_times_actions_from_load_start_and_stop_interrupts(
    connection: KubeConnection, cluster: Cluster, store: ObjectStore, run_dir: Path
) -> None:
    _rolled_out(cluster)
    load_start = time.time()
    runner = ActionRunner(
        connection.api_client,
        NS,
        [
            ScaleAction(kind="scale", deployment="order", replicas=3, at=0.3),
            RolloutRestartAction(kind="rollout_restart", deployment="order", at=0.4),
            ScaleAction(kind="scale", deployment="order", replicas=9, at=60),
        ],
        run_dir,
    ).start(load_start)
    events = eventually(lambda: _events(run_dir), lambda e: len(e) >= 3)
    started = time.monotonic()
    assert runner.stop()
    assert time.monotonic() - started < 1.0

    frame = read_table(run_dir, "events")
    assert frame["t_ms"].iloc[0] >= int(load_start * 1000) + 300
    assert [(k, n) for k, n, _ in _events(run_dir)] == [
        ("action_start", "scale deployment/order"),
        ("action_end", "scale deployment/order"),
        ("action_start", LABEL),
        ("action_end", LABEL),
    ]
    assert _events(run_dir)[-1][2] == "stopped"
    assert events[:3] == _events(run_dir)[:3]
    assert store.get(DEPLOYMENTS, NS, "order")["spec"]["replicas"] == 3
