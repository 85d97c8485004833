"""kubectl works unchanged against the running sandbox, controllers included."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from slagate.sandbox.assembling import Sandbox

KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = Sandbox.start(tmp_path_factory.mktemp("kubectl") / "state")
    try:
        for deployment in ("order", "product"):
            kubectl(running, "rollout", "status", f"deployment/{deployment}", "--timeout=60s")
        yield running
    finally:
        running.stop()


def kubectl(sandbox: Sandbox, *args: str, timeout: float = 90) -> str:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(sandbox.kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_get_deploy_hpa_pods(sandbox: Sandbox) -> None:
    out = kubectl(sandbox, "get", "deploy,hpa,pods")
    assert "deployment.apps/order" in out
    assert "horizontalpodautoscaler.autoscaling/order" in out
    assert "Running" in out


def test_get_nodes_shows_the_sandboxs_node(sandbox: Sandbox) -> None:
    out = kubectl(sandbox, "get", "nodes").splitlines()

    assert out[0].split() == ["NAME", "STATUS", "CPU", "PODS", "AGE"]
    assert out[1].split()[:2] == ["slagate-sandbox", "Ready"]
    assert out[1].split()[3] == "110"


def test_scale_then_rollout_restart_and_status(sandbox: Sandbox) -> None:
    kubectl(sandbox, "scale", "deployment/product", "--replicas=3")
    kubectl(sandbox, "rollout", "status", "deployment/product", "--timeout=60s")
    assert (
        kubectl(sandbox, "get", "deployment/product", "-o", "jsonpath={.status.readyReplicas}")
        == "3"
    )
    kubectl(sandbox, "rollout", "restart", "deployment/product")
    out = kubectl(sandbox, "rollout", "status", "deployment/product", "--timeout=60s")
    assert 'deployment "product" successfully rolled out' in out
    revision = kubectl(
        sandbox,
        "get",
        "deployment/product",
        "-o",
        "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    )
    assert revision == "2"
