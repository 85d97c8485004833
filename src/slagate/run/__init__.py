"""Orchestration: preflight -> load child + progress -> actions -> drain -> finish.

The run layer owns the order of things and the run folder; it never imports Locust or
gevent (the load runs in a child process, ``python -m slagate.load``), the sandbox or the
shop (a sandbox comes in as a ``StartCluster`` from the CLI), and draws nothing itself
(a ``RunView`` does)."""

from slagate.run.checking import check_run
from slagate.run.cluster import ClusterOptions, ProvidedCluster, StartCluster
from slagate.run.orchestrating import RunOptions, check_options, resolve_target, run_scenario
from slagate.run.viewing import RunView, SilentView

__all__ = [
    "ClusterOptions",
    "ProvidedCluster",
    "RunOptions",
    "RunView",
    "SilentView",
    "StartCluster",
    "check_options",
    "check_run",
    "resolve_target",
    "run_scenario",
]
