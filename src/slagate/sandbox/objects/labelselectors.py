"""Label selectors: the string form of ``?labelSelector=`` and the LabelSelector object.

Both forms become one ``LabelSelector`` value with upstream semantics: requirements are
ANDed; ``!=`` and ``notin`` also match objects without the label; ``>``/``<`` compare
integers. ``str()`` gives the canonical string (``app=web,tier in (a,b)``), which is
what a Scale's ``status.selector`` carries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slagate.errors import BadRequest

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^()]*)\)\s*$")
_NOT_EXISTS_RE = re.compile(rf"^\s*!\s*({_KEY})\s*$")
_EQUALITY_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_COMPARE_RE = re.compile(rf"^\s*({_KEY})\s*([<>])\s*(-?[0-9]+)\s*$")
_EXISTS_RE = re.compile(rf"^\s*({_KEY})\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


class Operator(StrEnum):
    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = ">"
    LESS_THAN = "<"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        match self.operator:
            case Operator.EQUALS | Operator.IN:
                return present and value in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                return not present or value not in self.values
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
        return present and _compare(value, self.operator, self.values[0])

    def __str__(self) -> str:
        match self.operator:
            case Operator.EXISTS:
                return self.key
            case Operator.DOES_NOT_EXIST:
                return f"!{self.key}"
            case Operator.IN | Operator.NOT_IN:
                return f"{self.key} {self.operator.value} ({','.join(self.values)})"
        return f"{self.key}{self.operator.value}{self.values[0]}"


def _compare(value: str, operator: Operator, bound: str) -> bool:
    try:
        number = int(value)
    except ValueError:
        return False
    return number > int(bound) if operator is Operator.GREATER_THAN else number < int(bound)


@dataclass(frozen=True)
class LabelSelector:
    """ANDed requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the ``?labelSelector=`` form; raise ``BadRequest`` naming the bad term."""
    terms = [t for t in _split_terms(text) if t.strip()]
    return LabelSelector(tuple(_parse_requirement(term) for term in terms))


def _split_terms(text: str) -> list[str]:
    terms, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(text[start:index])
            start = index + 1
    terms.append(text[start:])
    return terms


def _parse_requirement(term: str) -> Requirement:
    if match := _SET_RE.match(term):
        values = tuple(sorted({v.strip() for v in match[3].split(",")}))
        _check_values(term, values)
        return Requirement(match[1], Operator(match[2]), values)
    if match := _NOT_EXISTS_RE.match(term):
        return Requirement(match[1], Operator.DOES_NOT_EXIST)
    if match := _EQUALITY_RE.match(term):
        operator = Operator.NOT_EQUALS if match[2] == "!=" else Operator.EQUALS
        return Requirement(match[1], operator, (match[3],))
    if match := _COMPARE_RE.match(term):
        return Requirement(match[1], Operator(match[2]), (match[3],))
    if match := _EXISTS_RE.match(term):
        return Requirement(match[1], Operator.EXISTS)
    raise BadRequest(f"unable to parse requirement: invalid label selector term {term.strip()!r}")


def _check_values(term: str, values: tuple[str, ...]) -> None:
    for value in values:
        if not _VALUE_RE.match(value) or len(value) > 63:
            raise BadRequest(
                f"unable to parse requirement: invalid label value {value!r} in {term!r}"
            )


_EXPRESSION_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def selector_from_object(selector: Mapping[str, Any]) -> LabelSelector:
    """Convert a LabelSelector object (``matchLabels``, ``matchExpressions``).

    Raises ``BadRequest`` for an unknown operator or a malformed expression.
    """
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise BadRequest("matchLabels must be a map of strings")
    requirements = [
        Requirement(str(k), Operator.EQUALS, (str(v),)) for k, v in match_labels.items()
    ]
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise BadRequest("matchExpressions must be a list")
    requirements.extend(_expression(e) for e in expressions)
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


def _expression(expression: Any) -> Requirement:
    if not isinstance(expression, Mapping):
        raise BadRequest("each matchExpressions entry must be an object")
    operator = _EXPRESSION_OPERATORS.get(str(expression.get("operator")))
    if operator is None:
        raise BadRequest(f"{expression.get('operator')!r} is not a valid label selector operator")
    values = tuple(sorted(str(v) for v in expression.get("values") or []))
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        raise BadRequest(f"operator {expression['operator']} needs at least one value")
    return Requirement(str(expression.get("key", "")), operator, values)
