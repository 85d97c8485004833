"""What a real cluster's monitoring gives, for the sandbox: Prometheus and what it scrapes.

::

    discovery     kubernetes_sd's pod role as http_sd target groups (pure)
    statemetrics  kube-state-metrics v2 series from the store's objects
    cadvisor      container_cpu_usage_seconds_total from the kubelet's process trees
    exporting     MonitoringServer: those three on one loopback port (threads)
    configuring   prometheus.yml: the jobs and relabeling rules of a real cluster (pure)
    launching     PrometheusServer: the real ``prometheus`` binary as a child process

The service proxy serves its own Istio-named request metrics (``proxy.telemetry``). The
monitoring server reads the kubelet through ``metrics.ContainerCpuSource`` only, so it
stands beside the kubelet, not on it. Nothing here runs at import time.
"""

from slagate.sandbox.monitoring.configuring import ScrapeSources, render_config
from slagate.sandbox.monitoring.exporting import MonitoringServer
from slagate.sandbox.monitoring.launching import PrometheusServer, missing_message, start_prometheus

__all__ = [
    "MonitoringServer",
    "PrometheusServer",
    "ScrapeSources",
    "missing_message",
    "render_config",
    "start_prometheus",
]
