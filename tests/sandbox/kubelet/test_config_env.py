"""ConfigMaps and Secrets reach a container's environment: a real kubelet, real processes.

Two pods, about a second each: one reads every kind of reference, one names a key that
does not exist and stays waiting with upstream's reason.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet import Kubelet, PodNetwork
from slagate.sandbox.objects.resources import CONFIG_MAPS, PODS, SECRETS
from slagate.sandbox.settings import SandboxSettings
from tests.sandbox.kubelet.test_processes import (
    NS,
    container_status,
    make_pod,
    python,
    wait_for,
    waiting_reason,
)

pytestmark = pytest.mark.e2e
CONFIG_ERROR = "CreateContainerConfigError"


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def kubelet(store: ObjectStore, state_dir: Path) -> Iterator[Kubelet]:
    with Kubelet(store, SandboxSettings(), state_dir, PodNetwork.random()) as running:
        yield running


PRINT_ENV = "import os; print(sorted((k, v) for k, v in os.environ.items() if k.startswith('T_')))"


def _config(store: ObjectStore) -> None:
    store.create(CONFIG_MAPS, {"metadata": {"name": "app"}, "data": {"mode": "fast", "x": "1"}}, NS)
    secret = {
        "metadata": {"name": "creds"},
        "data": {"password": base64.b64encode(b"s3cr\xc3\xa9t").decode()},
        "stringData": {"user": "alice"},
    }
    store.create(SECRETS, secret, NS)


def test_env_from_config_maps_and_secrets_reaches_the_process(
    kubelet: Kubelet, store: ObjectStore, state_dir: Path
) -> None:
    _config(store)
    env = [
        {"name": "T_MODE", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "mode"}}},
        {"name": "T_PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
        {"name": "T_x", "value": "env wins over envFrom"},
        {
            "name": "T_NONE",
            "valueFrom": {"configMapKeyRef": {"name": "app", "key": "nope", "optional": True}},
        },
    ]
    env_from = [
        {"configMapRef": {"name": "app"}, "prefix": "T_"},
        {"secretRef": {"name": "creds"}, "prefix": "T_S_"},
        {"secretRef": {"name": "absent", "optional": True}},
    ]
    container = python("app", "-c", PRINT_ENV, env=env, envFrom=env_from)
    store.create(PODS, make_pod("configured", container, restartPolicy="Never"), NS)

    wait_for(store, "configured", lambda p: (p or {}).get("status", {}).get("phase") == "Succeeded")

    log = (state_dir / "pods" / "default_configured.log").read_text()
    assert log == (
        "[('T_MODE', 'fast'), ('T_PASS', 's3crét'), ('T_S_password', 's3crét'), "
        "('T_S_user', 'alice'), ('T_mode', 'fast'), ('T_x', 'env wins over envFrom')]\n"
    )


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        pytest.param(
            {"configMapKeyRef": {"name": "app", "key": "nope"}},
            "couldn't find key nope in ConfigMap default/app",
            id="missing-key",
        ),
        pytest.param(
            {"secretKeyRef": {"name": "absent", "key": "k"}},
            'secret "absent" not found',
            id="missing-secret",
        ),
    ],
)
def test_a_missing_reference_keeps_the_container_waiting(
    kubelet: Kubelet, store: ObjectStore, ref: dict[str, object], message: str
) -> None:
    _config(store)
    container = python("app", "-c", "pass", env=[{"name": "V", "valueFrom": ref}])
    store.create(PODS, make_pod("unconfigured", container), NS)

    pod = wait_for(store, "unconfigured", lambda p: waiting_reason(p) == CONFIG_ERROR)

    waiting = container_status(pod)["state"]["waiting"]
    assert waiting["message"] == message
    assert pod["status"]["phase"] == "Pending"  # type: ignore[index]
