"""What every pod and container worker of one kubelet shares: the node's services."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet.events import EventRecorder
from slagate.sandbox.kubelet.pidnamespaces import NO_ISOLATION, PidIsolation
from slagate.sandbox.kubelet.pool import WorkerPool
from slagate.sandbox.kubelet.probing import Prober
from slagate.sandbox.kubelet.reactor import Reactor
from slagate.sandbox.settings import SandboxSettings

NODE_NAME = "slagate-sandbox"
"""The one node of the sandbox: ``spec.nodeName`` of every pod, Events' source host."""
HOST_IP = "127.0.0.1"


@dataclass(frozen=True)
class Node:
    """The kubelet's services, handed to its workers.

    ``reactor`` runs every pod and container decision; ``workers`` run probe requests;
    ``events`` records as the kubelet, ``scheduler_events`` as the default scheduler
    (the sandbox binds pods itself). ``cwd`` is every container's working directory,
    ``logs_dir`` holds ``<namespace>_<name>.log`` per pod, ``python`` replaces a
    ``python`` command, ``base_env`` is what each container's env is laid over.
    """

    store: ObjectStore
    settings: SandboxSettings
    clock: Callable[[], float]
    reactor: Reactor
    workers: WorkerPool
    prober: Prober
    events: EventRecorder
    scheduler_events: EventRecorder
    cwd: Path
    logs_dir: Path
    python: str
    base_env: Mapping[str, str]
    name: str = NODE_NAME
    host_ip: str = HOST_IP
    pid_isolation: PidIsolation = NO_ISOLATION
    """Whether containers run as PID 1 of a PID namespace (``pidnamespaces``)."""
