"""ConfigMaps and Secrets as a container's environment: ``envFrom`` and
``valueFrom.configMapKeyRef`` / ``secretKeyRef``, read from the store when the container
starts (as the kubelet reads them then; a later change reaches only a restarted
container).

Upstream (``kubelet_pods.go makeEnvironmentVariables``): the Service variables first, then
every ``envFrom`` source in order (each key behind its ``prefix``; a later source wins),
then ``env`` (which wins over both). A Secret's values are its decoded bytes. A missing
object or key fails the container start with reason ``CreateContainerConfigError`` and
upstream's message (``configmap "app" not found``, ``couldn't find key mode in ConfigMap
shop/app``) unless the reference says ``optional: true``, which then contributes nothing.
Only ``data`` of a ConfigMap is read, as upstream does for the environment.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence

from slagate.errors import ContainerStartError, NotFound
from slagate.sandbox.apiserver.configdata import decode_value
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet.environment import CREATE_CONTAINER_CONFIG_ERROR
from slagate.sandbox.kubelet.specs import EnvSource, KeyRef
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import CONFIG_MAPS, SECRETS


class ConfigSources:
    """The ConfigMaps and Secrets of ``namespace`` in ``store``, as a container sees them."""

    def __init__(self, store: ObjectStore, namespace: str) -> None:
        self._store = store
        self._namespace = namespace

    def _object(self, kind: str, name: str) -> RawObject | None:
        resource = CONFIG_MAPS if kind == "ConfigMap" else SECRETS
        try:
            return self._store.get(resource, self._namespace, name)
        except NotFound:
            return None

    def _values(self, kind: str, name: str) -> dict[str, str] | None:
        obj = self._object(kind, name)
        return None if obj is None else _values(obj, kind == "Secret")

    def file_contents(self, kind: str, name: str) -> dict[str, bytes] | None:
        """Every key of a ConfigMap (``data`` and ``binaryData``) or Secret as the bytes a
        volume holds; None when the object does not exist."""
        obj = self._object(kind, name)
        if obj is None:
            return None
        if kind == "Secret":
            return _decoded(obj, "data")
        plain = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        return {
            **{k: str(v).encode() for k, v in (plain or {}).items()},
            **_decoded(obj, "binaryData"),
        }

    def sourced_env(self, sources: Sequence[EnvSource]) -> dict[str, str]:
        """The variables every ``envFrom`` source contributes, later sources winning."""
        env: dict[str, str] = {}
        for source in sources:
            values = self._values(source.kind, source.name)
            if values is None:
                if source.optional:
                    continue
                raise _config_error(f'{source.kind.lower()} "{source.name}" not found')
            env.update({source.prefix + key: value for key, value in values.items()})
        return env

    def key_value(self, ref: KeyRef) -> str | None:
        """The value of one key reference; None when it is optional and missing."""
        values = self._values(ref.kind, ref.name)
        if values is None:
            if ref.optional:
                return None
            raise _config_error(f'{ref.kind.lower()} "{ref.name}" not found')
        if ref.key not in values:
            if ref.optional:
                return None
            where = f"{self._namespace}/{ref.name}"
            raise _config_error(f"couldn't find key {ref.key} in {ref.kind} {where}")
        return values[ref.key]


def _values(obj: RawObject, encoded: bool) -> dict[str, str]:
    data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
    values = {}
    for key, value in (data or {}).items():
        if not encoded:
            values[key] = str(value)
            continue
        try:
            values[key] = decode_value(str(value)).decode(errors="replace")
        except (binascii.Error, ValueError):
            continue  # the API server refuses such data; nothing stored is skipped here
    return values


def _decoded(obj: RawObject, field: str) -> dict[str, bytes]:
    data = obj.get(field) if isinstance(obj.get(field), dict) else {}
    values = {}
    for key, value in (data or {}).items():
        try:
            values[key] = decode_value(str(value))
        except (binascii.Error, ValueError):
            continue  # the API server refuses such data; nothing stored is skipped here
    return values


def _config_error(message: str) -> ContainerStartError:
    return ContainerStartError(CREATE_CONTAINER_CONFIG_ERROR, message)
