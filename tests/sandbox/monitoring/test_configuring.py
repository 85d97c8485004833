"""The generated prometheus.yml: the jobs and relabeling of a real cluster, valid for promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from slagate.sandbox.monitoring.configuring import (
    ScrapeSources,
    duration,
    prometheus_config,
    render_config,
)

PROMTOOL = shutil.which("promtool")
SOURCES = ScrapeSources("127.0.0.1:40100", proxy="127.0.0.1:40200")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)")
def test_promtool_accepts_the_config(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(render_config(SOURCES, scrape_interval_s=1.0))

    done = subprocess.run(
        [str(PROMTOOL), "check", "config", str(config)], capture_output=True, text=True
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_jobs_scrape_pods_kube_state_metrics_cadvisor_and_the_proxy() -> None:
    config = prometheus_config(SOURCES, scrape_interval_s=1.0)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    assert config["global"] == {"scrape_interval": "1000ms", "scrape_timeout": "1000ms"}
    assert list(jobs) == ["kubernetes-pods", "kube-state-metrics", "kubelet", "service-proxy"]
    assert jobs["kubernetes-pods"]["http_sd_configs"] == [
        {"url": "http://127.0.0.1:40100/sd/pods", "refresh_interval": "1000ms"}
    ]
    assert jobs["kube-state-metrics"]["static_configs"] == [{"targets": ["127.0.0.1:40100"]}]
    assert jobs["kubelet"]["metrics_path"] == "/metrics/cadvisor"
    assert jobs["kubelet"]["honor_labels"] is True
    assert jobs["service-proxy"]["static_configs"] == [{"targets": ["127.0.0.1:40200"]}]


def test_without_a_proxy_port_there_is_no_proxy_job() -> None:
    config = prometheus_config(ScrapeSources("127.0.0.1:1"), scrape_interval_s=60.0)

    assert "service-proxy" not in [job["job_name"] for job in config["scrape_configs"]]
    assert config["global"]["scrape_timeout"] == "10000ms"  # Prometheus' default, < interval


def test_pods_are_relabeled_by_the_prometheus_io_annotations() -> None:
    relabel = yaml.safe_load(render_config(SOURCES, 1.0))["scrape_configs"][0]["relabel_configs"]
    by_target = {rule.get("target_label"): rule for rule in relabel}

    keep = relabel[0]
    assert keep == {
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        "action": "keep",
        "regex": "true",
    }
    assert by_target["__address__"]["source_labels"] == [
        "__meta_kubernetes_pod_ip",
        "__meta_kubernetes_pod_annotation_prometheus_io_port",
    ]
    assert by_target["__address__"]["replacement"] == "$1:$2"
    assert by_target["__metrics_path__"]["source_labels"] == [
        "__meta_kubernetes_pod_annotation_prometheus_io_path"
    ]
    assert {
        label: by_target[label]["source_labels"][0]
        for label in ("namespace", "pod", "container", "app")
    } == {
        "namespace": "__meta_kubernetes_namespace",
        "pod": "__meta_kubernetes_pod_name",
        "container": "__meta_kubernetes_pod_container_name",
        "app": "__meta_kubernetes_pod_label_app",
    }


@pytest.mark.parametrize(
    ("seconds", "text"), [(1.0, "1000ms"), (0.25, "250ms"), (60.0, "60000ms"), (0.0, "1ms")]
)
def test_durations_are_whole_milliseconds(seconds: float, text: str) -> None:
    assert duration(seconds) == text
