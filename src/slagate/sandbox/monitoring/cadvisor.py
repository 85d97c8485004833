"""Per-container CPU as cAdvisor names it, from the kubelet's process trees.

A real kubelet serves cAdvisor's container metrics on ``/metrics/cadvisor``; the series
CPU dashboards and SLAs use is ``container_cpu_usage_seconds_total``, a counter of the CPU
seconds a container's cgroup has used, and ``rate()`` of it is the CPU in cores. The
sandbox's containers are process trees, so the counter is their CPU time (nanoseconds
from the kernel, the same clock the HPA's samples come from), labelled
``{namespace, pod, container}``. Real cAdvisor also has series for the pod's own cgroup
(``container=""``) and the pause container (``container="POD"``), which is why queries
filter on ``container!=""``; the sandbox has neither, so such filters change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from slagate.sandbox.metrics import ContainerCpuSource, ContainerCpuTime

CPU_USAGE = "container_cpu_usage_seconds"
"""The family's name; its counter sample is ``container_cpu_usage_seconds_total``."""


def cpu_families(times: Iterable[ContainerCpuTime]) -> list[Metric]:
    """``container_cpu_usage_seconds_total{namespace, pod, container}`` (pure)."""
    family = CounterMetricFamily(
        CPU_USAGE,
        "Cumulative cpu time consumed in seconds (cAdvisor compatible, from the sandbox's "
        "process trees).",
        labels=["namespace", "pod", "container"],
    )
    for time in times:
        family.add_metric([time.namespace, time.pod, time.container], time.seconds)
    return [family]


class CadvisorCollector(Collector):
    """The kubelet's containers' CPU, read at each scrape."""

    def __init__(self, source: ContainerCpuSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        yield from cpu_families(self._source.container_cpu())
