"""Field selectors (``?fieldSelector=metadata.name=web,status.phase!=Failed``).

Only the fields upstream indexes are accepted, per type; anything else is the same
``400 field label not supported`` a real API server answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slagate.errors import BadRequest
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import ResourceType

_COMMON = ("metadata.name", "metadata.namespace")
_EXTRA: dict[str, tuple[str, ...]] = {
    "pods": (
        "status.phase",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "namespaces": ("status.phase",),
    "replicasets": ("status.replicas",),
}
_ALIASES = {"source": "source.component"}


@dataclass(frozen=True)
class FieldTerm:
    field: str
    value: str
    negated: bool = False

    def matches(self, obj: RawObject) -> bool:
        return (_lookup(obj, self.field) == self.value) != self.negated


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[FieldTerm, ...] = ()

    def matches(self, obj: RawObject) -> bool:
        return all(term.matches(obj) for term in self.terms)


def parse_field_selector(text: str, resource: ResourceType) -> FieldSelector:
    """Parse ``text`` for ``resource``; raise ``BadRequest`` for syntax or unknown fields."""
    allowed = (*_COMMON, *_EXTRA.get(resource.plural, ()))
    terms = []
    for raw in _split_unescaped(text, ","):
        if not raw.strip():
            continue
        term = _parse_term(raw)
        if term.field not in allowed:
            raise BadRequest(f'field label not supported: "{term.field}"')
        terms.append(term)
    return FieldSelector(tuple(terms))


def _parse_term(raw: str) -> FieldTerm:
    for operator, negated in (("!=", True), ("==", False), ("=", False)):
        if operator in raw:
            field, _, value = raw.partition(operator)
            return FieldTerm(field.strip(), _unescape(value.strip()), negated)
    raise BadRequest(f"invalid field selector term {raw!r}: expected field=value or field!=value")


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if char == separator and not escaped:
            parts.append(current)
            current = ""
            continue
        current += char
        escaped = char == "\\" and not escaped
    parts.append(current)
    return parts


def _unescape(value: str) -> str:
    return value.replace("\\,", ",").replace("\\=", "=").replace("\\\\", "\\")


def _lookup(obj: RawObject, field: str) -> str:
    node: Any = obj
    for key in _ALIASES.get(field, field).split("."):
        node = node.get(key) if isinstance(node, dict) else None
    if node is None:
        return ""
    return str(node).lower() if isinstance(node, bool) else str(node)
