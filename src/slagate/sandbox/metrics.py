"""Pod CPU as the HPA sees it: the seam between the kubelet (producer) and the HPA controller."""

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


class StaticMetrics:
    """An in-memory ``PodMetricsSource`` for tests: set samples by hand."""

    def __init__(self) -> None:
        self.samples: dict[tuple[str, str], PodCpu] = {}

    def set(self, namespace: str, name: str, sample: PodCpu) -> None:
        self.samples[(namespace, name)] = sample

    def pod_cpu(self, namespace: str, name: str) -> PodCpu | None:
        return self.samples.get((namespace, name))
