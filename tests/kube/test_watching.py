"""ClusterRecorder against a live sandbox API server; the test plays controller/kubelet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slagate.kube.connecting import KubeConnection
from slagate.kube.watching import ClusterRecorder, RecorderSettings
from tests.kube.objects import (
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    EVENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    NS,
    PODS,
    REPLICASETS,
    Cluster,
    deployment,
    endpoint_slice,
    event,
    hpa,
    pod,
    replica_set,
)
from tests.kube.polling import eventually, pod_transitions, table

SETTINGS = RecorderSettings(flush_interval_s=0.2, retry_initial_s=0.05, retry_max_s=0.2)


@pytest.fixture
def recorder(connection: KubeConnection, run_dir: Path) -> Iterator[ClusterRecorder]:
    recorder = ClusterRecorder(connection.api_client, NS, run_dir, settings=SETTINGS).start()
    yield recorder
    recorder.stop()


def _wait_for_pods(
    recorder: ClusterRecorder, run_dir: Path, expected: list[tuple[str, str]]
) -> Any:
    return eventually(
        lambda: pod_transitions(table(recorder, run_dir, "pods")),
        lambda got: len(got) >= len(expected),
    )


def test_pod_transitions_from_added_to_deleted(
    recorder: ClusterRecorder, cluster: Cluster, run_dir: Path
) -> None:
    body = pod("order-aaa-1")
    body["spec"]["containers"][0] |= {
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "lifecycle": {"preStop": {"sleep": {"seconds": 2}}},
    }
    cluster.create(PODS, body)
    cluster.pod_status("order-aaa-1", "Running", ready=True, ip="10.1.0.7")
    cluster.start_deleting("order-aaa-1")
    cluster.pod_status("order-aaa-1", "Running", ready=False, ip="10.1.0.7")
    cluster.remove(PODS, "order-aaa-1")

    expected = ["added", "phase", "ready", "deleting", "unready", "deleted"]
    got = _wait_for_pods(recorder, run_dir, [("order-aaa-1", t) for t in expected])
    assert got == [("order-aaa-1", t) for t in expected]
    rows = table(recorder, run_dir, "pods").to_dict("records")
    keys = ("phase", "ready", "deleting", "pod_ip", "owner", "revision", "readiness_probe")
    assert {k: rows[2][k] for k in (*keys, "prestop_s")} == {
        "phase": "Running",
        "ready": True,
        "deleting": False,
        "pod_ip": "10.1.0.7",
        "owner": "order-aaa",
        "revision": "aaa",
        "readiness_probe": True,
        "prestop_s": 2.0,
    }
    assert (rows[3]["deleting"], rows[3]["ready"]) == (True, True)


def test_pods_present_at_start_are_recorded_as_added(
    connection: KubeConnection, cluster: Cluster, run_dir: Path
) -> None:
    cluster.create(PODS, pod("order-aaa-1"))
    cluster.pod_status("order-aaa-1", "Running", ready=True)
    recorder = ClusterRecorder(connection.api_client, NS, run_dir, settings=SETTINGS).start()
    recorder.stop()
    rows = table(recorder, run_dir, "pods")
    assert rows[["name", "transition", "phase", "ready"]].values.tolist() == [
        ["order-aaa-1", "added", "Running", True]
    ]


def _replica_rows(recorder: ClusterRecorder, run_dir: Path, count: int) -> list[dict[str, Any]]:
    frame = eventually(lambda: table(recorder, run_dir, "replicas"), lambda f: len(f) >= count)
    frame = frame.astype(object).where(frame.notna(), None)  # NaN (null int) -> None
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def test_deployment_rows_follow_status_with_rollout_complete(
    recorder: ClusterRecorder, cluster: Cluster, run_dir: Path
) -> None:
    cluster.create(DEPLOYMENTS, deployment(replicas=2))
    cluster.status(
        DEPLOYMENTS, "order", {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2}
    )
    cluster.modify(
        DEPLOYMENTS, "order", lambda d: {**d, "metadata": {**d["metadata"], "labels": {"x": "y"}}}
    )
    cluster.status(DEPLOYMENTS, "order", {"readyReplicas": 2, "availableReplicas": 2})

    rows = _replica_rows(recorder, run_dir, 3)
    picked = [
        (
            r["desired"],
            r["current"],
            r["ready"],
            r["available"],
            r["updated"],
            r["rollout_complete"],
        )
        for r in rows
    ]
    assert picked == [
        (2, 0, 0, 0, 0, False),
        (2, 2, 0, 0, 2, False),
        (2, 2, 2, 2, 2, True),
    ]
    assert {(r["kind"], r["name"], r["revision"], r["deleted"]) for r in rows} == {
        ("Deployment", "order", "1", False)
    }


def test_replicaset_and_hpa_rows_and_deletion(
    recorder: ClusterRecorder, cluster: Cluster, run_dir: Path
) -> None:
    cluster.create(REPLICASETS, replica_set("order-aaa", "aaa", "1", 2, uid="d"))
    cluster.status(
        REPLICASETS, "order-aaa", {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1}
    )
    cluster.create(HORIZONTAL_POD_AUTOSCALERS, hpa())
    cluster.status(
        HORIZONTAL_POD_AUTOSCALERS,
        "order",
        {
            "currentReplicas": 2,
            "desiredReplicas": 4,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": 42}},
                }
            ],
        },
    )
    cluster.remove(REPLICASETS, "order-aaa")

    rows = _replica_rows(recorder, run_dir, 5)
    by_kind = sorted(rows, key=lambda r: (r["kind"], r["t_ms"]))
    hpa_rows = [r for r in by_kind if r["kind"] == "HorizontalPodAutoscaler"]
    rs_rows = [r for r in by_kind if r["kind"] == "ReplicaSet"]
    assert [
        (r["desired"], r["current"], r["metric_value"], r["metric_target"]) for r in hpa_rows
    ] == [
        (0, None, None, 15.0),
        (4, 2, 42.0, 15.0),
    ]
    assert {(r["min_replicas"], r["max_replicas"]) for r in hpa_rows} == {(1, 10)}
    assert [(r["desired"], r["current"], r["ready"], r["deleted"]) for r in rs_rows] == [
        (2, 0, 0, False),
        (2, 2, 1, False),
        (2, 2, 1, True),
    ]
    assert {(r["revision"], r["updated"], r["rollout_complete"]) for r in rs_rows} == {
        ("1", None, None)
    }


def test_endpoint_counts_are_summed_over_a_services_slices(
    recorder: ClusterRecorder, cluster: Cluster, run_dir: Path
) -> None:
    cluster.create(
        ENDPOINT_SLICES,
        endpoint_slice("order-1", "order", [("p1", True, False), ("p2", True, False)]),
    )
    cluster.create(ENDPOINT_SLICES, endpoint_slice("order-2", "order", [("p3", False, False)]))
    cluster.create(ENDPOINT_SLICES, endpoint_slice("product-1", "product", [("q1", True, False)]))
    cluster.modify(
        ENDPOINT_SLICES,
        "order-1",
        lambda s: {
            **s,
            **endpoint_slice("order-1", "order", [("p1", False, True), ("p2", True, False)]),
        },
    )
    cluster.modify(
        ENDPOINT_SLICES,
        "order-2",
        lambda s: {**s, **endpoint_slice("order-2", "order", [("p3", True, False)])},
    )
    cluster.remove(ENDPOINT_SLICES, "order-1")

    frame = eventually(lambda: table(recorder, run_dir, "endpoints"), lambda f: len(f) >= 5)
    assert frame.drop(columns="t_ms").values.tolist() == [
        ["order", 2, 2, 0, "p1,p2", ""],
        ["product", 1, 1, 0, "q1", ""],
        ["order", 1, 2, 1, "p2", "p1"],
        ["order", 2, 3, 1, "p2,p3", "p1"],
        ["order", 1, 1, 0, "p3", ""],
    ]


def test_kubernetes_events_new_and_repeated_but_not_those_before_the_run(
    connection: KubeConnection, cluster: Cluster, run_dir: Path
) -> None:
    cluster.create(EVENTS, event("old.1", "Pulled", "Pod/order-aaa-1", "pulled before the run"))
    recorder = ClusterRecorder(connection.api_client, NS, run_dir, settings=SETTINGS)
    with recorder:
        _make_events(cluster)
        frame = eventually(lambda: table(recorder, run_dir, "events"), lambda f: len(f) >= 3)
    rows = frame.drop(columns="t_ms").values.tolist()
    assert rows == [
        ["kubernetes", "Killing", "Pod/order-aaa-1", "Stopping container app"],
        ["kubernetes", "Killing", "Pod/order-aaa-1", "Stopping container app"],
        ["kubernetes", "SuccessfulRescale", "HorizontalPodAutoscaler/order", "x" * 297 + "..."],
    ]


def _make_events(cluster: Cluster) -> None:
    cluster.create(EVENTS, event("e.1", "Killing", "Pod/order-aaa-1", "Stopping  container app"))
    cluster.modify(EVENTS, "e.1", lambda e: {**e, "count": 2})
    cluster.modify(EVENTS, "e.1", lambda e: {**e, "lastTimestamp": "2024-06-01T12:00:00Z"})
    cluster.create(
        EVENTS, event("e.2", "SuccessfulRescale", "HorizontalPodAutoscaler/order", "x" * 400)
    )
