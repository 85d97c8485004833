"""The shipped harness RBAC (deploy/harness/) applied to the sandbox, whose RBAC now
decides: as its ServiceAccount the preflight passes for every action; without the
`slagate-act` binding it names the verbs the actions miss, as role-act.yaml says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slagate.errors import PreflightError
from slagate.kube.connecting import KubeOptions, connect
from slagate.kube.preflight import check_permissions, required_permissions
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.resources import ROLE_BINDINGS, find_kind
from slagate.scenario import (
    DeletePodAction,
    KubeTarget,
    RolloutRestartAction,
    ScaleAction,
    SetImageAction,
)
from tests.kube.objects import NS

HARNESS = Path(__file__).resolve().parents[2] / "deploy" / "harness"
RBAC_FILES = ("serviceaccount.yaml", "role-observe.yaml", "role-act.yaml")
pytestmark = pytest.mark.skipif(
    not all((HARNESS / f).is_file() for f in RBAC_FILES),
    reason="deploy/harness/ RBAC manifests are not in this tree",
)
EVERY_ACTION = [
    RolloutRestartAction(kind="rollout_restart", deployment="order", at=1),
    SetImageAction(kind="set_image", deployment="order", container="order", image="x:1", at=1),
    ScaleAction(kind="scale", deployment="order", replicas=2, at=1),
    DeletePodAction(kind="delete_pod", selector="app=order", at=1),
]


def test_the_shipped_harness_rbac_passes_the_preflight_and_without_act_names_the_verbs(
    server: ApiServer, store: ObjectStore, tmp_path: Path
) -> None:
    accounts = []
    for file in RBAC_FILES:
        for document in yaml.safe_load_all((HARNESS / file).read_text()):
            resource = find_kind(document["apiVersion"], document["kind"])
            assert resource is not None, document["kind"]
            store.create(resource, document, NS)
            if document["kind"] == "ServiceAccount":
                accounts.append(document["metadata"]["name"])
    (account,) = accounts
    kubeconfig = server.write_service_account_kubeconfig(tmp_path / "sa", NS, account)
    target = KubeTarget(namespace=NS, allow_mutations_in=[NS])
    connection = connect(KubeOptions(kubeconfig, None, None), target)
    needed = required_permissions(EVERY_ACTION)

    check_permissions(connection.api_client, NS, needed)

    store.delete(ROLE_BINDINGS, NS, "slagate-act")
    with pytest.raises(PreflightError) as refused:
        check_permissions(connection.api_client, NS, needed)
    assert "  patch deployments in namespace shop\n" in str(refused.value)
    assert "  delete pods in namespace shop\n" in str(refused.value)
    assert "watch pods" not in str(refused.value)
