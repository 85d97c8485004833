"""ConfigMap and Secret bodies as the API server stores them.

Upstream rules (``pkg/apis/core/validation``, ``pkg/apis/core/v1/conversion``):
- a Secret's ``stringData`` is write-only: its values are encoded into ``data`` (base64 of
  the UTF-8 text), overriding a ``data`` entry of the same key, and ``stringData`` itself
  is never stored; ``type`` defaults to ``Opaque``;
- ``data`` of a Secret and ``binaryData`` of a ConfigMap hold base64 text, refused when it
  does not decode;
- every key consists of alphanumerics, ``-``, ``_`` or ``.`` (at most 253 characters), and a
  ConfigMap key may not be in both ``data`` and ``binaryData``.
Pure functions over the fresh copy the strategies hand them.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from slagate.errors import FieldCause
from slagate.sandbox.objects.bodies import RawObject

_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_KEY_DETAIL = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def default_secret(obj: RawObject) -> None:
    """Merge ``stringData`` into ``data`` and drop it; default ``type``."""
    obj.setdefault("type", "Opaque")
    plain = obj.pop("stringData", None)
    if not isinstance(plain, dict):
        return
    data: dict[str, Any] = obj["data"] if isinstance(obj.get("data"), dict) else {}
    for key, value in plain.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    obj["data"] = data


def decode_value(encoded: str) -> bytes:
    """The bytes of one base64 ``data`` value; ``binascii.Error`` if it is not base64."""
    return base64.b64decode(encoded.encode(), validate=True)


def secret_causes(obj: RawObject) -> list[FieldCause]:
    return _map_causes(obj, "data", encoded=True)


def config_map_causes(obj: RawObject) -> list[FieldCause]:
    causes = _map_causes(obj, "data", encoded=False) + _map_causes(obj, "binaryData", True)
    data, binary = obj.get("data"), obj.get("binaryData")
    if isinstance(data, dict) and isinstance(binary, dict):
        for key in sorted(set(data) & set(binary)):
            causes.append(
                FieldCause(
                    f"data[{key}]",
                    f"Invalid value: {key!r}: duplicate of key present in binaryData",
                )
            )
    return causes


def _map_causes(obj: RawObject, field: str, encoded: bool) -> list[FieldCause]:
    value: Any = obj.get(field)
    if value is None:
        return []
    if not isinstance(value, dict):
        return [FieldCause(field, f"Invalid value: {value!r}: must be a map of strings")]
    causes = []
    for key, item in value.items():
        path = f"{field}[{key}]"
        if len(key) > 253 or not _KEY.match(key):
            causes.append(FieldCause(path, f"Invalid value: {key!r}: {_KEY_DETAIL}"))
        if not isinstance(item, str):
            causes.append(FieldCause(path, f"Invalid value: {item!r}: must be a string"))
        elif encoded:
            causes.extend(_base64_cause(path, item))
    return causes


def _base64_cause(path: str, item: str) -> list[FieldCause]:
    try:
        decode_value(item)
    except (binascii.Error, ValueError) as error:
        return [FieldCause(path, f"Invalid value: {item[:40]!r}: illegal base64 data ({error})")]
    return []
