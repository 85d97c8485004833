"""Which objects a list or watch is about: type, namespace, label and field selectors."""

from __future__ import annotations

from dataclasses import dataclass, field

from slagate.sandbox.objects.bodies import RawObject, labels_of, namespace_of
from slagate.sandbox.objects.fieldselectors import FieldSelector, parse_field_selector
from slagate.sandbox.objects.labelselectors import LabelSelector, parse_label_selector
from slagate.sandbox.objects.resources import ResourceType


@dataclass(frozen=True)
class Selection:
    """Objects of ``resource`` in ``namespace`` (None: all namespaces) that match both
    selectors. The default selectors match everything."""

    resource: ResourceType
    namespace: str | None = None
    labels: LabelSelector = field(default_factory=LabelSelector)
    fields: FieldSelector = field(default_factory=FieldSelector)

    def matches(self, obj: RawObject) -> bool:
        if self.namespace is not None and namespace_of(obj) != self.namespace:
            return False
        return self.labels.matches(labels_of(obj)) and self.fields.matches(obj)


def parse_selection(
    resource: ResourceType,
    namespace: str | None,
    label_selector: str = "",
    field_selector: str = "",
) -> Selection:
    """Build a ``Selection`` from query-string selectors; ``BadRequest`` if malformed."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector, resource)
    return Selection(resource, namespace, labels, fields)
