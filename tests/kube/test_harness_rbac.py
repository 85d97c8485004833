"""deploy/harness/ applied to the sandbox as `kubectl apply -k` would (the kustomization's
resources, in its namespace): the API validates every object, and as the harness's
ServiceAccount the preflight passes for every action; without the `slagate-act` binding
it names the verbs the actions miss, as role-act.yaml says. A broken manifest is refused
with its file, document and field path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from slagate.errors import ConfigError, PreflightError
from slagate.kube.connecting import KubeOptions, connect
from slagate.kube.preflight import check_permissions, required_permissions
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.applying import apply_manifests, load_manifests
from slagate.sandbox.objects.resources import ROLE_BINDINGS
from slagate.scenario import (
    DeletePodAction,
    KubeTarget,
    RolloutRestartAction,
    ScaleAction,
    SetImageAction,
)
from tests.kube.objects import NS

HARNESS = Path(__file__).resolve().parents[2] / "deploy" / "harness"
EVERY_ACTION = [
    RolloutRestartAction(kind="rollout_restart", deployment="order", at=1),
    SetImageAction(kind="set_image", deployment="order", container="order", image="x:1", at=1),
    ScaleAction(kind="scale", deployment="order", replicas=2, at=1),
    DeletePodAction(kind="delete_pod", selector="app=order", at=1),
]


def kustomized(tmp_path: Path, edit: Callable[[dict[str, Any]], None] = lambda d: None) -> Path:
    """The kustomization's resources, each in the test namespace (what its ``namespace:``
    does), written to a folder the sandbox applies; ``edit`` changes each document."""
    listed = yaml.safe_load((HARNESS / "kustomization.yaml").read_text())["resources"]
    listed += ["locust-master.yaml", "locust-workers.yaml"]  # distributed load, opt-in
    folder = tmp_path / "harness"
    folder.mkdir()
    for name in listed:
        documents = list(yaml.safe_load_all((HARNESS / name).read_text()))
        for document in documents:
            document["metadata"]["namespace"] = NS
            edit(document)
        (folder / name).write_text(yaml.safe_dump_all(documents))
    return folder


def test_the_harness_applies_passes_its_preflight_and_without_act_names_the_verbs(
    server: ApiServer, store: ObjectStore, tmp_path: Path
) -> None:
    created = apply_manifests(store, load_manifests([kustomized(tmp_path)]))
    kinds = sorted({o["kind"] for o in created})
    assert kinds == [
        "Deployment", "Job", "PersistentVolumeClaim", "Role", "RoleBinding", "Service",
        "ServiceAccount",
    ]  # fmt: skip
    accounts = [o["metadata"]["name"] for o in created if o["kind"] == "ServiceAccount"]
    (account,) = accounts
    kubeconfig = server.write_service_account_kubeconfig(tmp_path / "sa", NS, account)
    target = KubeTarget(namespace=NS, allow_mutations_in=[NS])
    connection = connect(KubeOptions(kubeconfig, None, None), target)
    needed = required_permissions(EVERY_ACTION, reads_services=True)

    check_permissions(connection.api_client, NS, needed)

    store.delete(ROLE_BINDINGS, NS, "slagate-act")
    with pytest.raises(PreflightError) as refused:
        check_permissions(connection.api_client, NS, needed)
    assert "  patch deployments in namespace shop\n" in str(refused.value)
    assert "  delete pods in namespace shop\n" in str(refused.value)
    assert "watch pods" not in str(refused.value)


def test_a_broken_harness_manifest_is_refused_with_its_field_path(
    store: ObjectStore, tmp_path: Path
) -> None:
    def always_restart(document: dict[str, Any]) -> None:
        if document["kind"] == "Job":
            document["spec"]["template"]["spec"]["restartPolicy"] = "Always"

    with pytest.raises(ConfigError) as refused:
        apply_manifests(store, load_manifests([kustomized(tmp_path, always_restart)]))

    where = f'{tmp_path / "harness" / "job.yaml"}, document 1 (Job "slagate-gate")'
    assert str(refused.value).startswith(where)
    assert "spec.template.spec.restartPolicy" in str(refused.value)
    assert 'supported values: "OnFailure", "Never"' in str(refused.value)
