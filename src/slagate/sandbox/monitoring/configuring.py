"""``prometheus.yml`` for the sandbox: the scrape jobs a real cluster's Prometheus has.

Four jobs, every ``scrape_interval_s`` (``SandboxSettings.scrape_interval_s``):

- ``kubernetes-pods``: the pods the sandbox's http_sd endpoint lists (kubernetes_sd's pod
  role), relabeled by the rules users run on real clusters for the ``prometheus.io``
  annotations: keep only pods annotated ``prometheus.io/scrape: "true"``, drop pods that
  are not running, scrape ``<pod IP>:<prometheus.io/port>`` at ``prometheus.io/path``
  (default ``/metrics``), and label each series with ``namespace``, ``pod``,
  ``container`` and ``app`` (the pod's ``app`` label). The target list is refreshed every
  scrape interval (kubernetes_sd follows a watch; http_sd polls);
- ``kube-state-metrics``: the sandbox's kube-state-metrics endpoint (``honor_labels``:
  its ``namespace``/``pod`` labels are the objects', as on a real cluster);
- ``kubelet``: the cAdvisor CPU counters at ``/metrics/cadvisor`` (``honor_labels``);
- ``service-proxy``: the proxy's Istio request metrics, when it publishes a port.

Pure: addresses in, a YAML document out (checked with ``promtool check config`` in the
tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from slagate.sandbox.monitoring.discovery import META
from slagate.sandbox.monitoring.exporting import CADVISOR_PATH, PODS_SD_PATH

ANNOTATION = f"{META}pod_annotation_prometheus_io_"


@dataclass(frozen=True)
class ScrapeSources:
    """Where the jobs scrape: ``monitoring`` the sandbox's endpoints (``host:port``),
    ``proxy`` the service proxy's metrics (``host:port``, None when it has none)."""

    monitoring: str
    proxy: str | None = None


def prometheus_config(sources: ScrapeSources, scrape_interval_s: float) -> dict[str, Any]:
    interval = duration(scrape_interval_s)
    jobs = [
        _pods_job(f"http://{sources.monitoring}{PODS_SD_PATH}", interval),
        _static_job("kube-state-metrics", sources.monitoring, honor_labels=True),
        _static_job("kubelet", sources.monitoring, honor_labels=True, path=CADVISOR_PATH),
    ]
    if sources.proxy is not None:
        jobs.append(_static_job("service-proxy", sources.proxy))
    timeout = duration(min(scrape_interval_s, 10.0))
    return {
        "global": {"scrape_interval": interval, "scrape_timeout": timeout},
        "scrape_configs": jobs,
    }


def render_config(sources: ScrapeSources, scrape_interval_s: float) -> str:
    header = "# Written by the slagate sandbox at every start; edits are lost.\n"
    config = prometheus_config(sources, scrape_interval_s)
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def duration(seconds: float) -> str:
    """Seconds as a Prometheus duration, in whole milliseconds (``1000ms``)."""
    return f"{max(1, round(seconds * 1000))}ms"


def _pods_job(sd_url: str, interval: str) -> dict[str, Any]:
    return {
        "job_name": "kubernetes-pods",
        "http_sd_configs": [{"url": sd_url, "refresh_interval": interval}],
        "relabel_configs": [
            {"source_labels": [f"{ANNOTATION}scrape"], "action": "keep", "regex": "true"},
            {
                "source_labels": [f"{META}pod_phase"],
                "action": "drop",
                "regex": "Pending|Succeeded|Failed|Completed",
            },
            {
                "source_labels": [f"{ANNOTATION}path"],
                "action": "replace",
                "regex": "(.+)",
                "target_label": "__metrics_path__",
            },
            {
                "source_labels": [f"{META}pod_ip", f"{ANNOTATION}port"],
                "action": "replace",
                "regex": r"(.+);(\d+)",
                "replacement": "$1:$2",
                "target_label": "__address__",
            },
            _copy(f"{META}namespace", "namespace"),
            _copy(f"{META}pod_name", "pod"),
            _copy(f"{META}pod_container_name", "container"),
            _copy(f"{META}pod_label_app", "app"),
        ],
    }


def _copy(source: str, target: str) -> dict[str, Any]:
    return {"source_labels": [source], "action": "replace", "target_label": target}


def _static_job(
    name: str, address: str, *, honor_labels: bool = False, path: str = "/metrics"
) -> dict[str, Any]:
    job: dict[str, Any] = {"job_name": name}
    if honor_labels:
        job["honor_labels"] = True
    if path != "/metrics":
        job["metrics_path"] = path
    job["static_configs"] = [{"targets": [address]}]
    return job
