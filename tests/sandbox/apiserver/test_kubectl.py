"""kubectl 1.32 against the sandbox, as a user types it."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.resources import DEPLOYMENTS
from tests.sandbox.manifests import deployment

KUBECTL = Path("/usr/bin/kubectl")
pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl is not installed")

HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 15},
                },
            }
        ],
    },
}


@pytest.fixture
def kubectl(kubeconfig_path: Path, tmp_path: Path) -> Any:
    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [
            str(KUBECTL),
            "--kubeconfig",
            str(kubeconfig_path),
            "--cache-dir",
            str(tmp_path / "kube-cache"),
            *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=20, check=check)

    return run


@pytest.fixture
def applied(kubectl: Any, tmp_path: Path) -> Path:
    manifest = tmp_path / "shop.yaml"
    manifest.write_text(yaml.safe_dump_all([deployment(), HPA]))
    kubectl("apply", "-f", str(manifest))
    return manifest


def test_apply_then_get_deploy_hpa_pods(kubectl: Any, applied: Path) -> None:
    output = kubectl("get", "deploy,hpa,pods").stdout.splitlines()
    assert output[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert output[1].split()[:4] == ["deployment.apps/web", "0/2", "0", "0"]
    assert output[3].split() == [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ]
    assert output[4].split()[:7] == [
        "horizontalpodautoscaler.autoscaling/web",
        "Deployment/web",
        "cpu:",
        "<unknown>/15%",
        "1",
        "10",
        "0",
    ]
    assert "configured" not in kubectl("apply", "-f", str(applied)).stdout


def test_scale_sets_spec_replicas(kubectl: Any, applied: Path, sandbox_store: ObjectStore) -> None:
    assert (
        kubectl("scale", "deployment/web", "--replicas=3").stdout.strip()
        == "deployment.apps/web scaled"
    )
    assert sandbox_store.get(DEPLOYMENTS, "default", "web")["spec"]["replicas"] == 3


def test_rollout_restart_patches_the_template_annotation(
    kubectl: Any, applied: Path, sandbox_store: ObjectStore
) -> None:
    result = kubectl("rollout", "restart", "deployment/web")
    web = sandbox_store.get(DEPLOYMENTS, "default", "web")
    assert result.stdout.strip() == "deployment.apps/web restarted"
    assert "kubectl.kubernetes.io/restartedAt" in web["spec"]["template"]["metadata"]["annotations"]
    assert web["metadata"]["generation"] == 2


def test_get_as_json_and_delete(kubectl: Any, applied: Path) -> None:
    listed = json.loads(kubectl("get", "deploy", "-o", "json").stdout)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["web"]
    assert (
        kubectl("delete", "hpa", "web").stdout.strip()
        == 'horizontalpodautoscaler.autoscaling "web" deleted'
    )
    assert "No resources found" in kubectl("get", "hpa").stderr


def test_rollout_status_follows_the_watch_until_complete(
    kubectl: Any, sandbox_store: ObjectStore
) -> None:
    sandbox_store.create(DEPLOYMENTS, deployment(), "default")
    complete = {
        "observedGeneration": 1,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
    }
    timer = threading.Timer(
        0.3,
        lambda: sandbox_store.modify(
            DEPLOYMENTS, "default", "web", lambda d: {**d, "status": complete}, "status"
        ),
    )
    timer.start()
    result = kubectl("rollout", "status", "deployment/web", "--timeout=10s")
    timer.join()
    assert result.stdout.splitlines()[-1] == 'deployment "web" successfully rolled out'


def test_protobuf_commands_fail_with_a_clear_message(kubectl: Any) -> None:
    result = kubectl("auth", "can-i", "patch", "deployments", check=False)
    assert result.returncode != 0
    assert "reads JSON bodies only" in result.stderr


DEPLOY_FOLDER = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": {"a": "1"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web"}, "stringData": {"p": "x"}},
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "web-reads"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "web"}],
    },
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "a", "image": "agent:1"}]},
            },
        },
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "rules": [
                {
                    "host": "shop.example",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    },
]


def test_kubectl_applies_a_deploy_folder_and_prints_tables(kubectl: Any, tmp_path: Path) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "all.yaml").write_text(yaml.safe_dump_all(DEPLOY_FOLDER))

    applied = kubectl("apply", "-f", str(folder)).stdout.splitlines()
    assert len(applied) == len(DEPLOY_FOLDER)

    tables = kubectl("get", "cm,secret,sa,rolebinding,pdb,ds,ingress").stdout.splitlines()
    rows = [line.split() for line in tables if line]
    assert rows[0] == ["NAME", "DATA", "AGE"]
    assert rows[1][:2] == ["configmap/web", "1"]
    assert rows[3][:3] == ["secret/web", "Opaque", "1"]
    assert rows[5][:2] == ["serviceaccount/web", "0"]
    assert rows[7][:2] == ["rolebinding.rbac.authorization.k8s.io/web-reads", "Role/reader"]
    assert rows[9][:5] == ["poddisruptionbudget.policy/web", "1", "N/A", "0", *rows[9][4:5]]
    assert rows[11][0] == "daemonset.apps/agent"
    assert rows[13][:3] == ["ingress.networking.k8s.io/web", "<none>", "shop.example"]


def test_kubectl_applies_a_crd_and_gets_its_resources(kubectl: Any, tmp_path: Path) -> None:
    from tests.sandbox.apiserver.test_custom_resources import crd, rule

    (tmp_path / "crd.yaml").write_text(yaml.safe_dump(crd()))
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule("web", "web")))
    kubectl("apply", "-f", str(tmp_path / "crd.yaml"))
    assert kubectl("apply", "-f", str(tmp_path / "rules.yaml")).stdout.strip() == (
        "destinationrule.networking.istio.io/web created"
    )

    got = kubectl("get", "dr")
    rows = [line.split() for line in got.stdout.splitlines()]
    assert rows[0] == ["NAME", "AGE"]
    assert rows[1][0] == "web"
    listed = json.loads(kubectl("get", "destinationrules.networking.istio.io", "-o", "json").stdout)
    assert listed["items"][0]["spec"]["host"] == "web"
