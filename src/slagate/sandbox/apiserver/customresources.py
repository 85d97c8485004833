"""CustomResourceDefinitions: what a CRD makes servable, and the checks it must pass.

Creating a CRD (``apiextensions.k8s.io/v1``) makes one ``ResourceType`` per served
version: ``/apis/GROUP/VERSION/[namespaces/NS/]PLURAL`` with discovery, CRUD, list and
watch, label and field selectors, exactly the store's generic path; a ``status``
subresource when the version declares one. Simplifications, stated in docs/sandbox.md:
each served version keeps its own objects (no conversion between versions), the
``openAPIV3Schema`` is not enforced (objects are stored as sent), and ``scale``
subresources, printer columns and defaulting from the schema are not modelled. Deleting a
CRD deletes its custom resources, as upstream. Pure functions.
"""

from __future__ import annotations

from typing import Any

from slagate.errors import FieldCause
from slagate.sandbox.objects.bodies import RawObject, mapping_at, name_of
from slagate.sandbox.objects.resources import ResourceType

_SCOPES = ("Namespaced", "Cluster")


def custom_types(crd: RawObject) -> list[ResourceType]:
    """The types one (valid) CRD serves, one per served version."""
    spec = mapping_at(crd, "spec")
    names = mapping_at(spec, "names")
    versions = spec.get("versions")
    types = []
    for version in versions if isinstance(versions, list) else []:
        if not isinstance(version, dict) or version.get("served") is False:
            continue
        subresources = mapping_at(version, "subresources")
        types.append(
            ResourceType(
                str(spec.get("group", "")),
                str(version.get("name", "")),
                str(names.get("plural", "")),
                str(names.get("kind", "")),
                namespaced=spec.get("scope") == "Namespaced",
                short_names=_strings(names.get("shortNames")),
                subresources=frozenset({"status"}) if "status" in subresources else frozenset(),
                categories=_strings(names.get("categories")),
                custom=True,
            )
        )
    return types


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def crd_causes(crd: RawObject) -> list[FieldCause]:
    """Upstream's checks that matter for serving: names, group, scope, versions."""
    spec = mapping_at(crd, "spec")
    names = mapping_at(spec, "names")
    causes = [
        _required(f"spec.{path}")
        for path, value in (
            ("group", spec.get("group")),
            ("names.plural", names.get("plural")),
            ("names.kind", names.get("kind")),
        )
        if not value
    ]
    if spec.get("scope") not in _SCOPES:
        causes.append(
            FieldCause(
                "spec.scope", f"Unsupported value: {spec.get('scope')!r}", "FieldValueNotSupported"
            )
        )
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if not causes and name_of(crd) != expected:
        causes.append(
            FieldCause(
                "metadata.name",
                f'Invalid value: {name_of(crd)!r}: must be spec.names.plural+"."+spec.group',
            )
        )
    causes.extend(_version_causes(spec.get("versions")))
    return causes


def _version_causes(versions: Any) -> list[FieldCause]:
    if not isinstance(versions, list) or not versions:
        return [_required("spec.versions")]
    causes = []
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage") is True]
    if len(storage) != 1:
        causes.append(
            FieldCause(
                "spec.versions",
                "Invalid value: must have exactly one version marked as storage version",
            )
        )
    for index, version in enumerate(versions):
        if not isinstance(version, dict) or not version.get("name"):
            causes.append(_required(f"spec.versions[{index}].name"))
    return causes


def _required(field: str) -> FieldCause:
    return FieldCause(field, "Required value", "FieldValueRequired")
