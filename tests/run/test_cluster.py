"""What run.json records of the cluster a run used (``ClusterSession.info``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from slagate.kube.acting import ActionRunner
from slagate.kube.connecting import KubeConnection
from slagate.kube.watching import ClusterRecorder
from slagate.run.cluster import ClusterSession


@dataclass
class StartedSandbox:
    """A ``ProvidedCluster`` as the CLI hands one over (only what ``info`` reads)."""

    kubeconfig: Path = Path("kubeconfig")
    state_dir: Path = Path("state")
    routing_delay_s: float = 1.5
    prometheus_url: str | None = None
    data_plane: str = "kube-proxy"

    def stop(self) -> None:
        pass


def session(provided: StartedSandbox | None, tmp_path: Path) -> ClusterSession:
    connection = KubeConnection(cast(Any, None), "shop", "https://127.0.0.1:6443", "kubeconfig")
    unused = cast(Any, None)
    recorder, actions = cast(ClusterRecorder, unused), cast(ActionRunner, unused)
    return ClusterSession(connection, recorder, actions, provided, None, {}, tmp_path)


def test_a_sandbox_run_records_its_data_plane(tmp_path: Path) -> None:
    info = session(StartedSandbox(), tmp_path).info(context="ignored")

    assert (info.sandbox, info.data_plane, info.context) == (True, "kube-proxy", None)


def test_a_real_cluster_run_records_no_data_plane(tmp_path: Path) -> None:
    info = session(None, tmp_path).info(context="eks")

    assert (info.sandbox, info.data_plane, info.context) == (False, None, "eks")
