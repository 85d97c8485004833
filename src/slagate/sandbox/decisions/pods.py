"""Pod vocabulary shared by the controllers and the kubelet."""

from __future__ import annotations

import enum


class PodPhase(enum.Enum):
    """``status.phase`` of a pod."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"
