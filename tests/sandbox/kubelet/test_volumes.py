"""ConfigMap and Secret volumes, the pure part: which files, which modes, which errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slagate.errors import ContainerStartError
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet.configsources import ConfigSources
from slagate.sandbox.kubelet.volumes import (
    MOUNTS_ENV,
    ConfigVolume,
    Item,
    Mount,
    config_volumes,
    container_mounts,
    mount_volumes,
    volume_files,
)
from slagate.sandbox.objects.resources import CONFIG_MAPS

CONTENTS = {"mode": b"fast", "x": b"1"}


def test_volumes_and_mounts_are_read_from_the_pod() -> None:
    pod = {
        "spec": {
            "volumes": [
                {"name": "config", "configMap": {"name": "app", "defaultMode": 0o440}},
                {
                    "name": "creds",
                    "secret": {
                        "secretName": "db",
                        "optional": True,
                        "items": [{"key": "password", "path": "db/pass", "mode": 0o400}],
                    },
                },
                {"name": "scratch", "emptyDir": {}},
            ],
            "containers": [
                {
                    "name": "app",
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/app"},
                        {"name": "creds", "mountPath": "/etc/db.pass", "subPath": "db/pass"},
                    ],
                }
            ],
        }
    }

    assert config_volumes(pod) == {
        "config": ConfigVolume("config", "ConfigMap", "app", (), 0o440, False),
        "creds": ConfigVolume(
            "creds", "Secret", "db", (Item("password", "db/pass", 0o400),), 0o644, True
        ),
    }
    assert container_mounts(pod, "app") == (
        Mount("config", "/etc/app"),
        Mount("creds", "/etc/db.pass", "db/pass"),
    )


@pytest.mark.parametrize(
    ("volume", "files"),
    [
        pytest.param(
            ConfigVolume("c", "ConfigMap", "app"),
            {"mode": (b"fast", 0o644), "x": (b"1", 0o644)},
            id="every-key-default-mode",
        ),
        pytest.param(
            ConfigVolume("c", "ConfigMap", "app", (Item("mode", "conf/mode.txt"),), 0o600),
            {"conf/mode.txt": (b"fast", 0o600)},
            id="items-only-at-their-paths",
        ),
        pytest.param(
            ConfigVolume(
                "c", "Secret", "app", (Item("x", "x", 0o400), Item("nope", "n")), optional=True
            ),
            {"x": (b"1", 0o400)},
            id="optional-skips-a-missing-key",
        ),
    ],
)
def test_volume_files(volume: ConfigVolume, files: dict[str, tuple[bytes, int]]) -> None:
    assert volume_files(volume, CONTENTS) == files


def test_an_optional_missing_object_mounts_an_empty_folder() -> None:
    assert volume_files(ConfigVolume("c", "ConfigMap", "gone", optional=True), None) == {}


@pytest.mark.parametrize(
    ("volume", "contents", "message"),
    [
        pytest.param(
            ConfigVolume("config", "ConfigMap", "app"),
            None,
            'MountVolume.SetUp failed for volume "config" : configmap "app" not found',
            id="missing-config-map",
        ),
        pytest.param(
            ConfigVolume("creds", "Secret", "db"),
            None,
            'MountVolume.SetUp failed for volume "creds" : secret "db" not found',
            id="missing-secret",
        ),
        pytest.param(
            ConfigVolume("config", "ConfigMap", "app", (Item("nope", "n"),)),
            CONTENTS,
            'MountVolume.SetUp failed for volume "config" : '
            "configmap references non-existent config key: nope",
            id="missing-key",
        ),
        pytest.param(
            ConfigVolume("config", "ConfigMap", "app", (Item("x", "../x"),)),
            CONTENTS,
            "MountVolume.SetUp failed for volume \"config\" : invalid item path '../x': "
            "must be relative, without '..'",
            id="path-leaving-the-volume",
        ),
    ],
)
def test_a_volume_that_cannot_be_set_up_keeps_the_container_creating(
    volume: ConfigVolume, contents: dict[str, bytes] | None, message: str
) -> None:
    with pytest.raises(ContainerStartError) as raised:
        volume_files(volume, contents)

    error = raised.value
    assert (error.reason, error.event_reason, error.message) == (
        "ContainerCreating",
        "FailedMount",
        message,
    )
    assert error.event_message == message


def test_a_restart_swaps_in_the_current_files_and_forgets_the_old(tmp_path: Path) -> None:
    store = ObjectStore()
    store.create(CONFIG_MAPS, {"metadata": {"name": "app"}, "data": {"mode": "fast"}}, "default")
    pod = {
        "spec": {
            "volumes": [{"name": "config", "configMap": {"name": "app"}}],
            "containers": [
                {"name": "a", "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]}
            ],
        }
    }
    sources = ConfigSources(store, "default")
    folder = tmp_path / "pod" / "volumes"

    first = json.loads(mount_volumes(pod, "a", folder, sources)[MOUNTS_ENV])
    store.modify(CONFIG_MAPS, "default", "app", lambda cm: {**cm, "data": {"mode": "slow"}})
    second = json.loads(mount_volumes(pod, "a", folder, sources)[MOUNTS_ENV])

    assert first == second == {"/etc/app": str(folder / "config")}
    assert (folder / "config" / "mode").read_text() == "slow"
    assert (folder / "config").is_symlink()
    assert len(list(folder.iterdir())) == 2  # the link and the one folder it points at
    assert mount_volumes(pod, "b", folder, sources) == {}  # b mounts nothing
