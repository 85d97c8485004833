"""``slagate sandbox status`` rendering: kubectl's columns, ages and pod STATUS rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from slagate.sandbox.inspecting import age, hpa_targets, is_available, pod_status, render

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def created(seconds_ago: int) -> dict[str, Any]:
    moment = datetime.fromtimestamp(NOW - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"metadata": {"creationTimestamp": moment}}


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (900, "15m"),
        (4 * 3600, "4h"),
        (3 * 86400, "3d"),
    ],
)
def test_ages_read_like_kubectl(seconds: int, shown: str) -> None:
    assert age(created(seconds), NOW) == shown


def pod(phase: str = "Running", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {}, "status": {"phase": phase, "containerStatuses": []}}
    for key, value in extra.items():
        if key == "deleting":
            body["metadata"]["deletionTimestamp"] = "2026-01-01T12:00:00Z"
        else:
            body["status"]["containerStatuses"].append({"state": {key: {"reason": value}}})
    return body


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        pytest.param(pod(), "Running", id="running"),
        pytest.param(pod("Pending", waiting="ImageNotMapped"), "ImageNotMapped", id="waiting"),
        pytest.param(pod(waiting="CrashLoopBackOff"), "CrashLoopBackOff", id="crashloop"),
        pytest.param(pod("Failed", terminated="Error"), "Error", id="terminated"),
        pytest.param(pod(deleting=True), "Terminating", id="terminating"),
    ],
)
def test_pod_status_column(body: dict[str, Any], shown: str) -> None:
    assert pod_status(body) == shown


def test_hpa_targets_show_current_and_target_utilization() -> None:
    metric = {"type": "Resource", "resource": {"name": "cpu", "target": {"averageUtilization": 15}}}
    hpa: dict[str, Any] = {"spec": {"metrics": [metric]}, "status": {}}
    assert hpa_targets(hpa) == "cpu: <unknown>/15%"

    current = {"resource": {"name": "cpu", "current": {"averageUtilization": 42}}}
    hpa["status"]["currentMetrics"] = [current]
    assert hpa_targets(hpa) == "cpu: 42%/15%"


def test_a_deployment_is_available_once_every_replica_is_updated_and_available() -> None:
    deployment: dict[str, Any] = {
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 2,
            "replicas": 3,
            "updatedReplicas": 2,
            "availableReplicas": 2,
        },
    }
    assert not is_available(deployment)  # an old pod is still there

    deployment["status"]["replicas"] = 2
    assert is_available(deployment)


def test_tables_align_columns_three_spaces_apart() -> None:
    assert render(["NAME", "READY"], [["order", "1/1"], ["product-abc", "2/2"]]) == (
        "NAME          READY\norder         1/1\nproduct-abc   2/2"
    )
    assert render(["NAME"], []) == ""
