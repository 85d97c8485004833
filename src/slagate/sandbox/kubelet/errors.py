"""What can go wrong while the kubelet sets up a pod or a container.

Both are ``SandboxError`` s, but neither reaches a caller: the kubelet turns them into
what a real kubelet shows, a waiting reason in the container status and an Event.
"""

from __future__ import annotations

from slagate.errors import SandboxError


class ContainerStartError(SandboxError):
    """A container cannot be started. ``reason`` is the waiting reason its status shows
    (``ImageNotMapped``, ``CreateContainerConfigError``), the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class PodNetworkExhausted(SandboxError):
    """Every address of the pod network is taken; the pod waits for one to be released."""
