"""http_sd targets built from pods, with kubernetes_sd's pod role labels (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from slagate.sandbox.monitoring.discovery import (
    pod_labels,
    pod_target_groups,
    sanitize_label_name,
)

M = "__meta_kubernetes_"


def running_pod(**overrides: Any) -> dict[str, Any]:
    """An order pod as the sandbox's kubelet reports it: ready, on its own IP."""
    pod: dict[str, Any] = {
        "metadata": {
            "name": "order-5f6-abcde",
            "namespace": "default",
            "uid": "u-1",
            "labels": {"app": "order", "app.kubernetes.io/part-of": "shop"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": "order-5f6", "controller": True, "uid": "r"},
            ],
        },
        "spec": {
            "nodeName": "sandbox",
            "containers": [
                {
                    "name": "order",
                    "image": "ghcr.io/slagate/slagate-shop:0.1.0",
                    "ports": [
                        {"name": "http", "containerPort": 8080},
                        {"name": "admin", "containerPort": 9090, "protocol": "TCP"},
                    ],
                },
                {"name": "sidecar", "image": "python"},
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": "127.180.7.3",
            "hostIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    pod.update(overrides)
    return pod


def test_one_target_per_container_port_and_a_port_free_one_per_container_without() -> None:
    groups = pod_target_groups([running_pod()])

    assert [g["targets"] for g in groups] == [
        ["127.180.7.3:8080"],
        ["127.180.7.3:9090"],
        ["127.180.7.3"],
    ]
    first, _, portless = (g["labels"] for g in groups)
    assert {k: v for k, v in first.items() if k.startswith(f"{M}pod_container")} == {
        f"{M}pod_container_name": "order",
        f"{M}pod_container_image": "ghcr.io/slagate/slagate-shop:0.1.0",
        f"{M}pod_container_init": "false",
        f"{M}pod_container_port_name": "http",
        f"{M}pod_container_port_number": "8080",
        f"{M}pod_container_port_protocol": "TCP",
    }
    assert f"{M}pod_container_port_number" not in portless
    assert portless[f"{M}pod_container_name"] == "sidecar"


def test_init_containers_are_targets_too_after_the_containers_marked_init() -> None:
    pod = running_pod()
    pod["spec"]["initContainers"] = [
        {
            "name": "mesh",
            "image": "python",
            "restartPolicy": "Always",
            "ports": [{"name": "proxy", "containerPort": 15090}],
        }
    ]

    groups = pod_target_groups([pod])

    assert groups[-1]["targets"] == ["127.180.7.3:15090"]
    assert groups[-1]["labels"][f"{M}pod_container_name"] == "mesh"
    assert groups[-1]["labels"][f"{M}pod_container_init"] == "true"
    assert {g["labels"][f"{M}pod_container_init"] for g in groups[:-1]} == {"false"}


def test_pod_labels_are_kubernetes_sds() -> None:
    labels = pod_labels(running_pod())

    assert labels == {
        f"{M}namespace": "default",
        f"{M}pod_name": "order-5f6-abcde",
        f"{M}pod_ip": "127.180.7.3",
        f"{M}pod_ready": "true",
        f"{M}pod_phase": "Running",
        f"{M}pod_node_name": "sandbox",
        f"{M}pod_host_ip": "127.0.0.1",
        f"{M}pod_uid": "u-1",
        f"{M}pod_controller_kind": "ReplicaSet",
        f"{M}pod_controller_name": "order-5f6",
        f"{M}pod_label_app": "order",
        f"{M}pod_labelpresent_app": "true",
        f"{M}pod_label_app_kubernetes_io_part_of": "shop",
        f"{M}pod_labelpresent_app_kubernetes_io_part_of": "true",
        f"{M}pod_annotation_prometheus_io_scrape": "true",
        f"{M}pod_annotationpresent_prometheus_io_scrape": "true",
        f"{M}pod_annotation_prometheus_io_port": "8080",
        f"{M}pod_annotationpresent_prometheus_io_port": "true",
    }


@pytest.mark.parametrize(
    ("conditions", "ready"),
    [
        pytest.param([{"type": "Ready", "status": "False"}], "false", id="not-ready"),
        pytest.param([{"type": "PodScheduled", "status": "True"}], "unknown", id="no-ready"),
        pytest.param([], "unknown", id="no-conditions"),
    ],
)
def test_ready_is_the_ready_conditions_status_in_lower_case(
    conditions: list[dict[str, str]], ready: str
) -> None:
    pod = running_pod()
    pod["status"]["conditions"] = conditions

    assert pod_labels(pod)[f"{M}pod_ready"] == ready


def test_a_pod_without_an_ip_or_controller() -> None:
    pending = running_pod(status={"phase": "Pending"})
    bare = running_pod()
    del bare["metadata"]["ownerReferences"]

    assert pod_target_groups([pending]) == []
    assert f"{M}pod_controller_kind" not in pod_labels(bare)


@pytest.mark.parametrize(
    ("name", "sanitized"),
    [
        ("app", "app"),
        ("app.kubernetes.io/name", "app_kubernetes_io_name"),
        ("prometheus.io/scrape", "prometheus_io_scrape"),
        ("pod-template-hash", "pod_template_hash"),
    ],
)
def test_names_are_sanitized_as_prometheus_does(name: str, sanitized: str) -> None:
    assert sanitize_label_name(name) == sanitized
