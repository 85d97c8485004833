"""Where a pod may run: the scheduler's fit of CPU requests and pod counts, its
``FailedScheduling`` message, and when a node provisioner adds a node.

Pure: nodes and requests in, decisions out; the kubelet's scheduler
(``slagate.sandbox.kubelet.scheduling``) keeps the state and the clock. Upstream sources:
``pkg/scheduler/framework/plugins/noderesources/fit.go`` (``Insufficient cpu``, the
``NodeResourcesFit`` filter), ``.../nodeinfo`` (``Too many pods``), ``framework/types.go``
``FitError.Error`` (the message), and Cluster Autoscaler's scale-up (a node group grows
only for pods that would fit an empty node of it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

INSUFFICIENT_CPU = "Insufficient cpu"
TOO_MANY_PODS = "Too many pods"


@dataclass(frozen=True)
class NodeUse:
    """One node as the scheduler sees it: what it can hold (``cpu_m`` 0 = unlimited) and
    what its bound pods (terminating ones included, until they are gone) request."""

    name: str
    cpu_m: int
    pods: int
    used_cpu_m: int = 0
    used_pods: int = 0

    def misfits(self, request_m: int) -> tuple[str, ...]:
        """Why a pod requesting ``request_m`` millicores does not fit here (none: it fits)."""
        reasons = []
        if self.cpu_m and self.used_cpu_m + request_m > self.cpu_m:
            reasons.append(INSUFFICIENT_CPU)
        if self.used_pods + 1 > self.pods:
            reasons.append(TOO_MANY_PODS)
        return tuple(reasons)

    def bound(self, request_m: int) -> NodeUse:
        return NodeUse(
            self.name, self.cpu_m, self.pods, self.used_cpu_m + request_m, self.used_pods + 1
        )


def choose_node(nodes: Sequence[NodeUse], request_m: int) -> str | None:
    """The node to bind to: of those it fits, the one with the most CPU left (upstream's
    default ``LeastAllocated`` score), the first listed on a tie; None if none fits."""
    fitting = [node for node in nodes if not node.misfits(request_m)]
    if not fitting:
        return None
    return max(fitting, key=lambda node: (_free_m(node), -nodes.index(node))).name


def unschedulable_message(nodes: Sequence[NodeUse], request_m: int) -> str:
    """``0/1 nodes are available: 1 Insufficient cpu.`` as upstream's ``FitError`` says it:
    each reason with the number of nodes it ruled out, sorted, then a full stop."""
    reasons = Counter(reason for node in nodes for reason in node.misfits(request_m))
    parts = sorted(f"{n} {reason}" for reason, n in reasons.items())
    return f"0/{len(nodes)} nodes are available: {', '.join(parts)}."


def fits_new_node(cpu_m: int, pods: int, request_m: int) -> bool:
    """Whether a pod would fit an empty new node: a provisioner adds nodes only for those."""
    return not NodeUse("new", cpu_m, pods).misfits(request_m)


def should_provision(unschedulable: int, nodes: int, provisioning: bool, max_nodes: int) -> bool:
    """Add a node: some pods fit no node but would fit a new one (``unschedulable``), none
    is on its way already, and the cluster is below ``max_nodes``. One node at a time: when
    it is Ready the pods are scheduled again, and a pod still left over asks for the next."""
    return unschedulable > 0 and not provisioning and nodes < max_nodes


def _free_m(node: NodeUse) -> int:
    return node.cpu_m - node.used_cpu_m if node.cpu_m else 1 << 62
