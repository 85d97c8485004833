"""deploy/harness/'s Roles grant exactly what the RBAC preflight checks.

`role-observe.yaml` must cover what every run needs (recording, reading Services) and
nothing that changes the cluster; `role-act.yaml` adds what the actions need. A verb the
preflight asks for and the Roles lack would make the shipped harness fail its own
preflight; a verb the Roles grant and nothing uses is a needless risk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from slagate.kube.preflight import Permission, required_permissions
from slagate.scenario import DeletePodAction, RolloutRestartAction, ScaleAction, SetImageAction

HARNESS = Path(__file__).resolve().parents[1] / "deploy" / "harness"
EVERY_ACTION = [
    RolloutRestartAction(kind="rollout_restart", deployment="order", at=1, on_fail="rollback"),
    SetImageAction(kind="set_image", deployment="order", container="order", image="x:1", at=1),
    ScaleAction(kind="scale", deployment="order", replicas=2, at=1),
    DeletePodAction(kind="delete_pod", selector="app=order", at=1),
]


def granted(file: str) -> set[Permission]:
    """Every (verb, resource, group, subresource) the file's Role rules grant."""
    documents: list[dict[str, Any]] = list(yaml.safe_load_all((HARNESS / file).read_text()))
    (role,) = [d for d in documents if d["kind"] == "Role"]
    grants = set()
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                plural, _, sub = resource.partition("/")
                grants |= {Permission(v, plural, group, sub) for v in rule["verbs"]}
    return grants


def test_the_observe_role_grants_what_every_run_needs_and_changes_nothing() -> None:
    assert granted("role-observe.yaml") == set(required_permissions(reads_services=True))


def test_the_act_role_adds_exactly_what_the_actions_need() -> None:
    needed = set(required_permissions(EVERY_ACTION, reads_services=True))
    assert granted("role-act.yaml") == needed - granted("role-observe.yaml")


def test_each_role_is_bound_to_the_harness_service_account() -> None:
    for file in ("role-observe.yaml", "role-act.yaml"):
        documents = list(yaml.safe_load_all((HARNESS / file).read_text()))
        (role,) = [d for d in documents if d["kind"] == "Role"]
        (binding,) = [d for d in documents if d["kind"] == "RoleBinding"]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        }
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "slagate"}]
