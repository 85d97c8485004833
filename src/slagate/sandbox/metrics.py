"""Pod CPU as the kubelet offers it: to the HPA controller (``PodCpu``, a rate) and to
the cAdvisor endpoint Prometheus scrapes (``ContainerCpuTime``, a cumulative counter);
and pod memory (bytes, ``pod_memory``) for the HPA's memory metrics.

Two seams, one producer (the kubelet); the consumers never import the kubelet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PodCpu:
    """CPU a pod used, averaged over ``window_s`` seconds ending at ``timestamp_s`` (epoch)."""

    millicores: int
    timestamp_s: float
    window_s: float


class PodMetricsSource(Protocol):
    def pod_cpu(self, namespace: str, name: str) -> PodCpu | None:
        """The latest sample for a pod, or None when there is none yet (a missing pod)."""
        ...

    def pod_memory(self, namespace: str, name: str) -> int | None:
        """The pod's memory in bytes at its latest CPU sample (the resident set of its
        process trees), or None with no CPU sample: metrics-server reports both or
        neither."""
        ...


class StaticMetrics:
    """An in-memory ``PodMetricsSource`` for tests: set samples by hand."""

    def __init__(self) -> None:
        self.samples: dict[tuple[str, str], PodCpu] = {}
        self.memory: dict[tuple[str, str], int] = {}

    def set(self, namespace: str, name: str, sample: PodCpu, memory_bytes: int = 0) -> None:
        self.samples[(namespace, name)] = sample
        self.memory[(namespace, name)] = memory_bytes

    def pod_cpu(self, namespace: str, name: str) -> PodCpu | None:
        return self.samples.get((namespace, name))

    def pod_memory(self, namespace: str, name: str) -> int | None:
        return self.memory.get((namespace, name))


@dataclass(frozen=True)
class ContainerCpuTime:
    """CPU seconds a running container's processes have used since it started, as
    cAdvisor's ``container_cpu_usage_seconds_total`` counts them (a restart starts again
    from 0, which Prometheus reads as a counter reset)."""

    namespace: str
    pod: str
    container: str
    seconds: float


class ContainerCpuSource(Protocol):
    def container_cpu(self) -> list[ContainerCpuTime]:
        """The cumulative CPU of every running container, read now."""
        ...
