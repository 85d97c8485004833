"""The harness as a ServiceAccount whose Role lacks a verb: `slagate run` exits 2 at the
preflight and names what is missing, as it would on a real cluster.

The sandbox API server runs in this process (the preflight needs nothing else), and so
does `slagate sandbox kubeconfig --service-account` (click's runner); `slagate run
--kubeconfig` runs as a real process, as a user types it. About 10 s, 20 s with a CPU hog.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from slagate.cli import main
from slagate.errors import ConfigError
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.inspecting import service_account_kubeconfig
from slagate.sandbox.objects.resources import (
    NAMESPACES,
    ROLE_BINDINGS,
    ROLES,
    SERVICE_ACCOUNTS,
)
from tests.e2e.conftest import slagate

pytestmark = pytest.mark.e2e

RECORDING = [
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"]},
    {"apiGroups": [""], "resources": ["pods", "events"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"]},
]
SCENARIO = """
name: restart-as-harness
target: {kubernetes: {namespace: shop, allow_mutations_in: [shop]}}
load: {shape: constant, users: 1, duration: 10s}
actions: [{kind: rollout_restart, deployment: order, at: 2}]
slas: [{kind: availability, min_percent: 99}]
"""


@pytest.fixture
def server() -> Iterator[ApiServer]:
    store = ObjectStore()
    store.create(NAMESPACES, {"metadata": {"name": "shop"}})
    store.create(SERVICE_ACCOUNTS, {"metadata": {"name": "harness"}}, "shop")
    rules = [{**r, "verbs": ["list", "watch"]} for r in RECORDING]
    rules.append({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]})
    store.create(ROLES, {"metadata": {"name": "harness"}, "rules": rules}, "shop")
    binding = {
        "metadata": {"name": "harness"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "harness"},
        "subjects": [{"kind": "ServiceAccount", "name": "harness", "namespace": "shop"}],
    }
    store.create(ROLE_BINDINGS, binding, "shop")
    with ApiServer(store) as running:
        yield running


def test_a_role_without_patch_deployments_fails_the_preflight_with_exit_2(
    server: ApiServer, tmp_path: Path
) -> None:
    admin = server.write_kubeconfig(tmp_path / "admin.kubeconfig")
    written = CliRunner().invoke(
        main,
        [
            "sandbox",
            "kubeconfig",
            "--kubeconfig",
            str(admin),
            "--service-account",
            "shop/harness",
            "-o",
            str(tmp_path / "harness.kubeconfig"),
        ],
    )
    assert (written.exit_code, written.output.strip()) == (0, str(tmp_path / "harness.kubeconfig"))
    assert (tmp_path / "harness.kubeconfig").stat().st_mode & 0o777 == 0o600
    scenario = tmp_path / "restart.yaml"
    scenario.write_text(SCENARIO)

    result = slagate(
        [
            "run",
            str(scenario),
            "--kubeconfig",
            str(tmp_path / "harness.kubeconfig"),
            "--reports",
            str(tmp_path / "reports"),
        ]
    )

    assert result.returncode == 2, result.stderr
    assert (
        "missing Kubernetes permissions, no load was sent:\n  patch deployments in namespace shop\n"
    ) in result.stderr
    assert "get deployments" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_service_account_is_named(server: ApiServer, tmp_path: Path) -> None:
    admin = server.write_kubeconfig(tmp_path / "admin.kubeconfig")
    output = tmp_path / "nobody.kubeconfig"
    with pytest.raises(ConfigError, match="no ServiceAccount 'nobody' in namespace 'shop'"):
        service_account_kubeconfig(admin, "shop/nobody", output)
    with pytest.raises(ConfigError, match="expected NAMESPACE/NAME"):
        service_account_kubeconfig(admin, "nobody", output)
    assert not output.exists()
