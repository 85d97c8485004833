"""ConfigMaps and Secrets reach a container's environment and its volumes: a real
kubelet, real processes.

Pods of about a second each: one reads every kind of environment reference, one names a
key that does not exist and stays waiting with upstream's reason; one reads a ConfigMap
and a Secret volume by their mountPaths, one mounts a missing ConfigMap and stays
ContainerCreating with a FailedMount Event.
"""

from __future__ import annotations

import base64
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet import Kubelet, PodNetwork
from slagate.sandbox.objects.resources import CONFIG_MAPS, EVENTS, PODS, SECRETS
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings
from tests.kube.polling import eventually
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


READ_MOUNTS = """
import json, os, stat
from pathlib import Path
mounts = json.loads(os.environ["SLAGATE_VOLUME_MOUNTS"])
config = Path(mounts["/etc/app"])
password = Path(mounts["/etc/db-password"])
print(sorted(p.name for p in config.iterdir()), (config / "mode").read_text())
print(password.read_bytes().decode(), oct(stat.S_IMODE(password.stat().st_mode)))
"""


def test_config_map_and_secret_volumes_are_files_the_process_finds_by_mount_path(
    kubelet: Kubelet, store: ObjectStore, state_dir: Path
) -> None:
    _config(store)
    volumes = [
        {"name": "config", "configMap": {"name": "app"}},
        {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
    ]
    mounts = [
        {"name": "config", "mountPath": "/etc/app"},
        {"name": "creds", "mountPath": "/etc/db-password", "subPath": "password"},
    ]
    container = python("app", "-c", READ_MOUNTS, volumeMounts=mounts)
    pod = make_pod("mounted", container, restartPolicy="Never", volumes=volumes)
    store.create(PODS, pod, NS)

    wait_for(store, "mounted", lambda p: (p or {}).get("status", {}).get("phase") == "Succeeded")

    log = (state_dir / "pods" / "default_mounted.log").read_text()
    assert log == "['mode', 'x'] fast\ns3crét 0o400\n"
    [folder] = (state_dir / "pods").glob("default_mounted_*")
    assert stat.S_IMODE(folder.joinpath("volumes").stat().st_mode) == 0o700

    store.delete(PODS, NS, "mounted")
    wait_for(store, "mounted", lambda p: p is None)

    # the kubelet follows the deletion on its own thread: wait for it, bounded
    assert eventually(folder.exists, lambda there: not there, 10.0) is False  # no Secret left


def test_a_missing_config_map_volume_keeps_the_pod_creating_with_failed_mount(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    volumes = [{"name": "config", "configMap": {"name": "absent"}}]
    mounts = [{"name": "config", "mountPath": "/etc/app"}]
    container = python("app", "-c", "pass", volumeMounts=mounts)
    store.create(PODS, make_pod("unmounted", container, volumes=volumes), NS)

    pod = wait_for(store, "unmounted", lambda p: waiting_reason(p) == "ContainerCreating" and bool(
        container_status(p)["state"]["waiting"].get("message")))  # fmt: skip

    message = 'MountVolume.SetUp failed for volume "config" : configmap "absent" not found'
    assert container_status(pod)["state"]["waiting"]["message"] == message
    assert pod["status"]["phase"] == "Pending"  # type: ignore[index]
    events = store.list(Selection(EVENTS, NS)).items
    assert [e["message"] for e in events if e.get("reason") == "FailedMount"] == [message]
