"""Reading a scenario file: YAML, validation, problems named by file, line and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from slagate.errors import ScenarioError
from slagate.scenario.actions import ACTION_KINDS
from slagate.scenario.model import Scenario
from slagate.scenario.slas import SLA_KINDS

# --- loading ------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem becomes a ``ScenarioError``."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ScenarioError(str(path), [f"cannot read the file: {e.strerror or e}"]) from e
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioError(source, [f"{where}: malformed YAML: {problem}"]) from e
    if not isinstance(data, dict):
        raise ScenarioError(
            source, [f"{source}:1: expected a mapping with name, load and slas at the top"]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        problems = [_describe(err, root, source) for err in e.errors()]
        raise ScenarioError(source, problems) from None


def _describe(err: Any, root: yaml.Node | None, source: str) -> str:
    loc = [p for p in err["loc"] if not _is_union_tag(p)]
    msg = err["msg"].removeprefix("Value error, ")
    if (m := _FIELD_PREFIX.match(msg)) is not None:
        loc = loc + _parse_dotted(m.group(1))
        msg = m.group(2)
    field = _dotted(loc) or "(top level)"
    line = _line_of(root, loc)
    where = f"{source}:{line}" if line else source
    if err["type"] == "union_tag_invalid":
        tag = err["ctx"]["tag"]
        msg = (
            f"unknown {err['ctx']['discriminator'].strip(chr(39))} {tag!r}; expected one of "
            + (err["ctx"]["expected_tags"])
        )
    elif err["type"] == "extra_forbidden":
        msg = "unknown field; check the spelling against the scenario reference in the README"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return (
        f"{where}: {field}: {msg} (got {_short(err.get('input'))})"
        if _shows_input(err)
        else f"{where}: {field}: {msg}"
    )


def _shows_input(err: Any) -> bool:
    return err["type"] not in (
        "missing",
        "extra_forbidden",
        "union_tag_invalid",
        "value_error",
    ) and not (isinstance(err.get("input"), dict))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part in ("constant", "steps", "ramp", "spike", "str", "WindowSpan")
        or part in SLA_KINDS
        or part in ACTION_KINDS
    )


_FIELD_PREFIX = re.compile(r"^([a-z_]+(?:\[\d+\]|\.[a-z_]+)*): (.*)$", re.DOTALL)


def _parse_dotted(path: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.findall(r"[a-z_]+|\d+", path)]


def _dotted(loc: list[Any]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _line_of(root: yaml.Node | None, loc: list[Any]) -> int | None:
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = value
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None
