"""ConfigMap and Secret volumes: written as files under the pod's own folder.

A pod here is a host process, so a ``volumeMounts[].mountPath`` such as ``/etc/config``
cannot be made to exist for it alone (that takes a mount namespace, which needs root).
The kubelet therefore writes each ``configMap`` / ``secret`` volume a container mounts to
``<state>/pods/<namespace>_<pod>_<uid>/volumes/<volume>/`` and tells the process where
with one environment variable, ``SLAGATE_VOLUME_MOUNTS``: a JSON object from each mountPath to its
host folder (or file, with ``subPath``). A program that reads files by their mountPath
looks the path up there first; everything else of the volume follows upstream:

- every key becomes a file named after it, or only the ``items`` listed, each at its
  ``path``; a ConfigMap's ``data`` and ``binaryData`` both, a Secret's decoded ``data``;
- file modes: the item's ``mode``, else ``defaultMode``, else 0644 (upstream's default);
- a missing ConfigMap/Secret, or a listed key it lacks, keeps the container in
  ``ContainerCreating`` with a ``FailedMount`` Warning Event worded as upstream
  (``MountVolume.SetUp failed for volume "config" : configmap "app" not found``) unless
  the volume says ``optional: true``, which then mounts what there is (an empty folder
  for a missing object);
- the files are written when a container starts (each restart writes them again, swapped
  in at once behind a symlink, as upstream's atomic writer does). A
  ConfigMap changed later reaches the files at the container's next start: upstream's
  kubelet also rewrites them on its periodic sync (about a minute), the sandbox does not.

The pod's folder is owner-only and removed when the kubelet is done with the pod (it
was deleted, or the kubelet stopped), so Secret values do not stay on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from slagate.errors import ContainerStartError
from slagate.sandbox.kubelet.configsources import ConfigSources
from slagate.sandbox.objects.bodies import RawObject, mapping_at

MOUNTS_ENV = "SLAGATE_VOLUME_MOUNTS"
"""The variable that maps each mountPath to the host path the kubelet wrote it at."""

CONTAINER_CREATING = "ContainerCreating"
FAILED_MOUNT = "FailedMount"
DEFAULT_MODE = 0o644


@dataclass(frozen=True)
class Item:
    key: str
    path: str
    mode: int | None = None


@dataclass(frozen=True)
class ConfigVolume:
    """One ``volumes[]`` entry of kind ``configMap`` or ``secret``."""

    name: str
    kind: str  # "ConfigMap" or "Secret"
    source: str  # the object's name
    items: tuple[Item, ...] = ()
    default_mode: int = DEFAULT_MODE
    optional: bool = False


@dataclass(frozen=True)
class Mount:
    volume: str
    mount_path: str
    sub_path: str = ""


def config_volumes(pod: RawObject) -> dict[str, ConfigVolume]:
    """The pod's configMap and secret volumes by name (other volume types: not here)."""
    volumes = {}
    for raw in _mappings(mapping_at(pod, "spec").get("volumes")):
        for field, kind, name_field in (
            ("configMap", "ConfigMap", "name"),
            ("secret", "Secret", "secretName"),
        ):
            source = raw.get(field)
            if isinstance(source, dict):
                volumes[str(raw.get("name"))] = ConfigVolume(
                    str(raw.get("name")),
                    kind,
                    str(source.get(name_field, "")),
                    tuple(_item(i) for i in _mappings(source.get("items"))),
                    _mode(source.get("defaultMode"), DEFAULT_MODE),
                    source.get("optional") is True,
                )
    return volumes


def container_mounts(pod: RawObject, container: str) -> tuple[Mount, ...]:
    """The ``volumeMounts`` of the named container (an app or an init container)."""
    spec = mapping_at(pod, "spec")
    for raw in [*_mappings(spec.get("containers")), *_mappings(spec.get("initContainers"))]:
        if raw.get("name") == container:
            return tuple(
                Mount(str(m.get("name")), str(m.get("mountPath")), str(m.get("subPath") or ""))
                for m in _mappings(raw.get("volumeMounts"))
            )
    return ()


def volume_files(
    volume: ConfigVolume, contents: Mapping[str, bytes] | None
) -> dict[str, tuple[bytes, int]]:
    """The files of one volume (relative path -> bytes and mode), or ``ContainerStartError``
    with upstream's wording when a required object or key is missing (pure)."""
    if contents is None:
        if volume.optional:
            return {}
        raise _mount_error(volume, f'{volume.kind.lower()} "{volume.source}" not found')
    if not volume.items:
        return {key: (value, volume.default_mode) for key, value in contents.items()}
    files = {}
    for item in volume.items:
        if item.key not in contents:
            if volume.optional:
                continue
            what = "configmap" if volume.kind == "ConfigMap" else "secret"
            raise _mount_error(volume, f"{what} references non-existent config key: {item.key}")
        files[_relative(volume, item.path)] = (contents[item.key], item.mode or volume.default_mode)
    return files


def mount_volumes(
    pod: RawObject, container: str, folder: Path, sources: ConfigSources
) -> dict[str, str]:
    """Write the configMap/secret volumes ``container`` mounts under ``folder`` and return
    the environment entry that maps their mountPaths (empty if it mounts none)."""
    volumes = config_volumes(pod)
    mounts = [m for m in container_mounts(pod, container) if m.volume in volumes]
    if not mounts:
        return {}
    paths = {}
    for mount in mounts:
        volume = volumes[mount.volume]
        files = volume_files(volume, sources.file_contents(volume.kind, volume.source))
        target = folder / volume.name
        _write(target, files)
        host = target / mount.sub_path if mount.sub_path else target
        paths[mount.mount_path] = str(host)
    return {MOUNTS_ENV: json.dumps(paths, sort_keys=True)}


def remove_volumes(folder: Path) -> None:
    """Forget a finished pod's volumes (Secret values included)."""
    shutil.rmtree(folder, ignore_errors=True)


def _write(target: Path, files: Mapping[str, tuple[bytes, int]]) -> None:
    """Make ``target`` show ``files``, swapped in at once as upstream's atomic writer does:
    the files go to a fresh folder, then the symlink ``target`` is replaced to point at it,
    so another container reading the volume never sees it half written. Owner-only
    folders, since a Secret's values are in them."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for folder in (parent, parent.parent):
        os.chmod(folder, 0o700)
    fresh = Path(tempfile.mkdtemp(prefix=f"..{target.name}.", dir=parent))
    for relative, (content, mode) in sorted(files.items()):
        path = fresh / relative
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(content)
        os.chmod(path, mode)
    before = os.readlink(target) if target.is_symlink() else None
    link = parent / f"..{target.name}.new"
    link.unlink(missing_ok=True)
    link.symlink_to(fresh.name)
    os.replace(link, target)
    if before is not None:
        shutil.rmtree(parent / before, ignore_errors=True)


def _relative(volume: ConfigVolume, path: str) -> str:
    """An item's path, refused when it would leave the volume (the API refuses it)."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts:
        raise _mount_error(volume, f"invalid item path {path!r}: must be relative, without '..'")
    return str(pure)


def _mount_error(volume: ConfigVolume, cause: str) -> ContainerStartError:
    message = f'MountVolume.SetUp failed for volume "{volume.name}" : {cause}'
    return ContainerStartError(CONTAINER_CREATING, message, event_reason=FAILED_MOUNT)


def _item(raw: Mapping[str, Any]) -> Item:
    mode = raw.get("mode")
    return Item(
        str(raw.get("key", "")), str(raw.get("path", "")), mode if isinstance(mode, int) else None
    )


def _mode(raw: Any, default: int) -> int:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else default


def _mappings(raw: Any) -> Sequence[dict[str, Any]]:
    return [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
