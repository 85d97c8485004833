"""Manifests into the sandbox: find the files, parse every YAML document, create the objects.

What ``kubectl apply -f PATH`` does for a fresh cluster: a directory means its ``*.yaml``,
``*.yml`` and ``*.json`` files in name order (not recursive); a file may hold several
documents. Objects are created through the store, so they get the same defaults and the
same validation as over HTTP. Namespaces are created first, so a manifest may declare
the namespace its other objects live in, then ConfigMaps, Secrets and ServiceAccounts,
which pods read when they start.

Every problem names the file, the document (counting from 1, as editors number YAML
documents) and, for invalid objects, the field::

    my-manifests/order.yaml, document 2 (Deployment "order"):
      Deployment.apps "order" is invalid: spec.selector: Required value

``sandbox-settings.yaml`` in a manifests directory is not a manifest: ``load_settings``
reads it into ``SandboxSettings``.

A data plane may read kinds of its own: under ``istio`` the proxy reads DestinationRules,
so ``load_for`` puts Istio's CRDs (``ISTIO_CRDS``) before the manifests, unless the
manifests define the same CRDs themselves (theirs are applied then).

``DEFAULT_MANIFESTS`` is what every command applies when given none: the reference shop
with sandbox timings, shipped inside the package so that an installed slagate finds it
from any folder (``deploy/shop/sandbox`` in the repository is a link to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slagate.errors import ApiError, ConfigError, YamlProblem
from slagate.sandbox.apiserver.customresources import custom_types
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.bodies import RawObject, mapping_at
from slagate.sandbox.objects.resources import (
    CONFIG_MAPS,
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
    RESOURCE_TYPES,
    SECRETS,
    SERVICE_ACCOUNTS,
    ResourceType,
    find_kind,
)
from slagate.sandbox.settings import DataPlane, SandboxSettings, check_timing
from slagate.scenario import SettingsLayer
from slagate.yamltext import decoded, loaded

SETTINGS_FILE = "sandbox-settings.yaml"
DEFAULT_MANIFESTS = Path(__file__).with_name("manifests")
"""The shop overlay and its ``sandbox-settings.yaml`` (package data)."""
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
ISTIO_CRDS = Path(__file__).with_name("crds") / "istio.yaml"
"""DestinationRule and VirtualService (``networking.istio.io``), for the ``istio`` data plane."""


@dataclass(frozen=True)
class Manifest:
    """One object from one document of one file."""

    path: Path
    document: int
    """1-based position of the document in its file."""
    resource: ResourceType
    body: RawObject

    @property
    def name(self) -> str:
        return str(mapping_at(self.body, "metadata").get("name", ""))

    @property
    def namespace(self) -> str | None:
        if not self.resource.namespaced:
            return None
        return str(mapping_at(self.body, "metadata").get("namespace") or "default")

    @property
    def where(self) -> str:
        return f'{self.path}, document {self.document} ({self.resource.kind} "{self.name}")'


def manifest_files(paths: Iterable[Path]) -> list[Path]:
    """The manifest files behind ``paths`` (files as given, directories expanded)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.suffix in MANIFEST_SUFFIXES and p.name != SETTINGS_FILE
            )
        elif path.is_file():
            if path.name != SETTINGS_FILE:
                files.append(path)
        else:
            raise ConfigError(f"manifests: {path} does not exist; pass a file or a directory")
    return files


def load_manifests(paths: Iterable[Path]) -> list[Manifest]:
    """Parse every document; ``ConfigError`` naming file and document on the first problem."""
    documents = [
        (path, index, document)
        for path in manifest_files(paths)
        for index, document in enumerate(_documents(path), start=1)
        if document is not None
    ]
    types = RESOURCE_TYPES + tuple(
        t
        for _, _, document in documents
        if _names(document)
        == (CUSTOM_RESOURCE_DEFINITIONS.api_version, CUSTOM_RESOURCE_DEFINITIONS.kind)
        for t in custom_types(document)
    )
    return [_manifest(path, index, document, types) for path, index, document in documents]


def load_for(paths: Sequence[Path], data_plane: DataPlane) -> list[Manifest]:
    """``load_manifests``, preceded by the CRDs ``data_plane`` reads that ``paths`` do
    not define themselves."""
    extra = (ISTIO_CRDS,) if data_plane.mesh else ()
    manifests = load_manifests((*extra, *paths))
    own = {(m.resource, m.name) for m in manifests if m.path not in extra}
    return [m for m in manifests if m.path not in extra or (m.resource, m.name) not in own]


def _names(document: Any) -> tuple[Any, Any]:
    if not isinstance(document, dict):
        return None, None
    return document.get("apiVersion"), document.get("kind")


def _documents(path: Path) -> list[Any]:
    try:
        documents: list[Any] = loaded(decoded(path.read_bytes()), every=True)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    except YamlProblem as error:
        line = f", line {error.line}" if error.line is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {error.problem}") from error
    return documents


def _manifest(path: Path, index: int, document: Any, types: tuple[ResourceType, ...]) -> Manifest:
    where = f"{path}, document {index}"
    if not isinstance(document, dict):
        raise ConfigError(
            f"{where}: expected a mapping (a Kubernetes object), got {document!r:.60}"
        )
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api_version, str) or not api_version:
        raise ConfigError(f"{where}: apiVersion: Required value")
    if not isinstance(kind, str) or not kind:
        raise ConfigError(f"{where}: kind: Required value")
    resource = find_kind(api_version, kind, types)
    if resource is None and find_kind(api_version, kind, _mesh_types()) is not None:
        raise ConfigError(
            f"{where}: kind: {api_version} {kind} is served under the istio data plane only, "
            "whose proxy reads it: leave it out, or choose data_plane istio (--data-plane, "
            "sandbox-settings.yaml, the scenario's sandbox: block, a sweep's --vary)"
        )
    if resource is None:
        served = ", ".join(sorted({f"{r.api_version} {r.kind}" for r in RESOURCE_TYPES}))
        raise ConfigError(
            f"{where}: kind: {api_version} {kind} is not served by the sandbox; served: "
            f"{served}, and the kinds of the CustomResourceDefinitions among the manifests"
        )
    if not mapping_at(document, "metadata").get("name"):
        raise ConfigError(f"{where} ({kind}): metadata.name: Required value")
    return Manifest(path, index, resource, document)


def _mesh_types() -> tuple[ResourceType, ...]:
    """The kinds the ``istio`` data plane's CRDs define."""
    return tuple(t for document in _documents(ISTIO_CRDS) for t in custom_types(document))


def apply_manifests(store: ObjectStore, manifests: Sequence[Manifest]) -> list[RawObject]:
    """Create every object (Namespaces first); ``ConfigError`` naming the manifest that
    the store refused (invalid field, missing namespace, duplicate name)."""
    ordered = sorted(manifests, key=_apply_order)
    created = []
    for manifest in ordered:
        try:
            created.append(store.create(manifest.resource, manifest.body, manifest.namespace))
        except ApiError as error:
            raise ConfigError(f"{manifest.where}:\n  {error.message}") from error
    return created


_FIRST = (NAMESPACES, CUSTOM_RESOURCE_DEFINITIONS, CONFIG_MAPS, SECRETS, SERVICE_ACCOUNTS)


def _apply_order(manifest: Manifest) -> int:
    """Namespaces, CustomResourceDefinitions (their kinds are served once they exist),
    then what pods read when they start (ConfigMaps, Secrets, ServiceAccounts), then the
    rest in file order: the kubelet reads a ConfigMap once, when a container starts, so
    it must exist before the pods do."""
    resource = manifest.resource
    return _FIRST.index(resource) if resource in _FIRST else len(_FIRST)


def load_settings(
    paths: Sequence[Path], timing: str | None = None, layers: Sequence[SettingsLayer] = ()
) -> SandboxSettings:
    """``SandboxSettings`` from the one ``sandbox-settings.yaml`` among ``paths`` (in a
    directory, or passed as a file), upstream's defaults (``real-time``) when none; each of
    ``layers`` (a scenario's ``sandbox:`` block, then a sweep's cell) replaces the values it
    names, and ``timing`` (``--timing``) the named timing last. ``ConfigError`` names the
    file, layer or option, the value and what is valid."""
    found = [p / SETTINGS_FILE for p in paths if (p / SETTINGS_FILE).is_file()]
    found += [p for p in paths if p.is_file() and p.name == SETTINGS_FILE]
    if len(found) > 1:
        listed = ", ".join(str(p) for p in found)
        raise ConfigError(f"several {SETTINGS_FILE} files: {listed}; keep one")
    data = _settings_file(found[0]) if found else {}
    source = str(found[0]) if found else "sandbox settings"
    for layer in layers:
        SandboxSettings.from_mapping(dict(layer.values), layer.source)  # named by its source
        data = {**data, **layer.values}
    if timing is not None:
        check_timing(timing, "--timing")
        data = {**data, "timing": timing}
    return SandboxSettings.from_mapping(data, source)


def _settings_file(path: Path) -> dict[str, Any]:
    try:
        data = loaded(decoded(path.read_bytes())) or {}
    except (OSError, YamlProblem) as error:
        raise ConfigError(f"{path}: cannot read sandbox settings: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of setting: value")
    return data


def check_manifests(
    paths: Sequence[Path],
    timing: str | None = None,
    data_plane: DataPlane | None = None,
    layers: Sequence[SettingsLayer] = (),
) -> SandboxSettings:
    """What ``Sandbox.start`` checks before running anything, done in a scratch store:
    the settings (file, ``layers`` and ``timing``, as ``load_settings``) and every
    manifest, with the CRDs of the data plane (``data_plane`` or the settings'; a
    ``ConfigError`` names file, document, field)."""
    settings = load_settings(paths, timing, layers)
    apply_manifests(ObjectStore(), load_for(paths, data_plane or settings.data_plane))
    return settings
