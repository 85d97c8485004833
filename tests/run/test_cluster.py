"""What run.json records of the cluster a run used (``ClusterSession.info``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from slagate.kube.acting import ActionRunner
from slagate.kube.connecting import KubeConnection
from slagate.kube.watching import ClusterRecorder
from slagate.run.cluster import ClusterSession
from slagate.timeline import SandboxProfile

KUBE_PROXY = SandboxProfile(
    timing="compressed",
    timings={"hpa_sync_period_s": 2.0},
    data_plane="kube-proxy",
    endpoint_propagation_delay_s=1.0,
    endpoint_propagation_jitter_s=0.5,
)


@dataclass
class StartedSandbox:
    """A ``ProvidedCluster`` as the CLI hands one over (only what ``info`` reads)."""

    kubeconfig: Path = Path("kubeconfig")
    state_dir: Path = Path("state")
    routing_delay_s: float = 1.5
    prometheus_url: str | None = None
    profile: SandboxProfile = field(default_factory=lambda: KUBE_PROXY)

    def stop(self) -> None:
        pass


def session(provided: StartedSandbox | None, tmp_path: Path) -> ClusterSession:
    connection = KubeConnection(cast(Any, None), "shop", "https://127.0.0.1:6443", "kubeconfig")
    unused = cast(Any, None)
    recorder, actions = cast(ClusterRecorder, unused), cast(ActionRunner, unused)
    return ClusterSession(connection, recorder, actions, provided, None, {}, tmp_path)


def test_a_sandbox_run_records_its_data_plane(tmp_path: Path) -> None:
    info = session(StartedSandbox(), tmp_path).info(context="ignored")

    assert (info.sandbox, info.context) == (True, None)
    assert info.sandbox_profile is not None
    assert info.sandbox_profile.data_plane == "kube-proxy"
    assert info.sandbox_profile.endpoint_propagation_jitter_s == 0.5


def test_a_real_cluster_run_records_no_data_plane(tmp_path: Path) -> None:
    info = session(None, tmp_path).info(context="eks")

    assert (info.sandbox, info.sandbox_profile, info.context) == (False, None, "eks")
