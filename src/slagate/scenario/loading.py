"""Reading a scenario file: YAML, validation, problems named by file, line and field.

The YAML is read once, by a loader that keeps where each value stood: every mapping and
sequence it builds remembers the line of each of its entries. A validation error's
location (pydantic's ``loc``, or a ``FieldProblem``'s for the scenario's own rules) is
walked through those, so each problem names its line without parsing the file again.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from slagate.errors import FieldProblem, ScenarioError, YamlProblem
from slagate.scenario.model import Scenario
from slagate.yamltext import SafeLoader, decoded, loaded, short_tag

INPUT_SHOWN_MAX = 60
_QUIET_INPUTS = ("missing", "extra_forbidden", "union_tag_invalid", "value_error")


class _Lines:
    """Where a mapping or sequence stood: its own line and each entry's (1-based)."""

    line: int
    lines: dict[Hashable, int]


class MarkedDict(dict[Any, Any], _Lines):
    """A YAML mapping that remembers the line each of its values starts on."""


class MarkedList(list[Any], _Lines):
    """A YAML sequence that remembers the line of each item."""


class _MarkingLoader(SafeLoader):
    """The safe loader whose mappings and sequences keep their entries' lines."""


def _construct_mapping(loader: _MarkingLoader, node: yaml.MappingNode) -> Any:
    _expect(node, yaml.MappingNode, "a mapping")
    data = MarkedDict()
    data.line, data.lines = node.start_mark.line + 1, {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in data:  # PyYAML would keep the last silently: a typo'd override
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = value_node.start_mark.line + 1


def _construct_sequence(loader: _MarkingLoader, node: yaml.SequenceNode) -> Any:
    _expect(node, yaml.SequenceNode, "a sequence")
    data = MarkedList()
    data.line = node.start_mark.line + 1
    data.lines = {i: item.start_mark.line + 1 for i, item in enumerate(node.value)}
    yield data
    data.extend(loader.construct_object(item, deep=True) for item in node.value)


def _expect(node: yaml.Node, kind: type[yaml.Node], what: str) -> None:
    """``!!map`` / ``!!seq`` written on a value of another kind."""
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(
            None, None, f"{short_tag(node)} needs {what}", node.start_mark
        )


_MarkingLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_MarkingLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem becomes a ``ScenarioError``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        reason = e.strerror or str(e)
        raise ScenarioError(str(path), [f"{path}: cannot read the file: {reason}"]) from e
    try:
        text = decoded(data)
    except YamlProblem as e:
        raise ScenarioError(str(path), [f"{path}:{e.line}: {e.problem}"]) from e
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    data = _read_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(
            source, [f"{source}:1: expected a mapping with name, load and slas at the top"]
        )
    nul = _nul_problems(data, source)
    if nul:
        raise ScenarioError(source, nul)
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(source, [_describe(err, data, source) for err in e.errors()]) from None
    except RecursionError:  # an alias that contains itself: `a: &x [*x]`
        raise ScenarioError(source, [f"{source}:1: a value contains itself (YAML alias)"]) from None


def _read_yaml(text: str, source: str) -> Any:
    try:
        return loaded(text, _MarkingLoader)
    except YamlProblem as e:
        where = f"{source}:{e.line or 1}"
        raise ScenarioError(source, [f"{where}: malformed YAML: {e.problem}"]) from e


def _nul_problems(data: Any, source: str) -> list[str]:
    """A NUL character (``"\\0"`` in a quoted string) reaches no file name, argument or
    URL intact: refused here, where its line is known, not by the OS mid-run. Each
    collection is visited once: YAML aliases may share one or make it contain itself."""
    found: list[str] = []
    seen: set[int] = set()
    pending: list[tuple[Any, list[str | int]]] = [(data, [])]
    while pending:
        node, path = pending.pop()
        if not isinstance(node, MarkedDict | MarkedList) or id(node) in seen:
            continue
        seen.add(id(node))
        items = node.items() if isinstance(node, MarkedDict) else enumerate(node)
        for key, value in items:
            here = [*path, key if isinstance(key, str | int) else repr(key)]
            if any(isinstance(v, str) and "\0" in v for v in (key, value)):
                line = node.lines.get(key, node.line)
                found.append(f"{source}:{line}: {_dotted(here)}: a NUL character is not allowed")
            pending.append((value, here))
    return sorted(found)


def _describe(err: ErrorDetails, data: Any, source: str) -> str:
    """``file:line: field.path: what is wrong (got value)`` for one validation error."""
    problem = _field_problem(err)
    loc = list(problem.loc) if problem else list(err["loc"])
    path, line = _locate(data, loc, named=problem is not None, missing=err["type"] == "missing")
    where = f"{source}:{line}"
    field = _dotted(path) or "(top level)"
    message = problem.message if problem else _message(err)
    if problem is None and _shows_input(err):
        message += f" (got {_short(err.get('input'))})"
    return f"{where}: {field}: {message}"


def _field_problem(err: ErrorDetails) -> FieldProblem | None:
    found = (err.get("ctx") or {}).get("error")
    return found if isinstance(found, FieldProblem) else None


def _message(err: ErrorDetails) -> str:
    if err["type"] == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        discriminator = str(ctx.get("discriminator", "kind")).strip("'")
        expected = ctx.get("expected_tags")
        return f"unknown {discriminator} {ctx.get('tag')!r}; expected one of {expected}"
    if err["type"] == "extra_forbidden":
        return "unknown field; check the spelling against the scenario reference in the README"
    if err["type"] == "missing":
        return "required field is missing"
    return err["msg"].removeprefix("Value error, ")


def _locate(
    data: Any, loc: Sequence[Any], *, named: bool, missing: bool
) -> tuple[list[str | int], int]:
    """The user's field path in ``loc`` and the line it stands on.

    pydantic puts the names of union members into ``loc`` (an SLA's ``kind``, ``str`` for
    one side of ``window``); a part that is not an entry of the value reached so far is
    such a name and is left out, unless it is the field a ``missing`` error names. A
    ``FieldProblem``'s location (``named``) holds field names only: all are kept.
    """
    path: list[str | int] = []
    line = getattr(data, "line", 1)
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, MarkedDict | MarkedList) and _has(node, part):
            path.append(part)
            line, node = node.lines.get(part, line), node[part]
        elif named or (missing and i == len(loc) - 1):
            path.append(part)
    return path, line


def _has(node: MarkedDict | MarkedList, part: Any) -> bool:
    if isinstance(node, MarkedList):
        return isinstance(part, int) and 0 <= part < len(node)
    return isinstance(part, Hashable) and part in node


_PLAIN_NAME = re.compile(r"^[A-Za-z_][\w\-]*$")


def _dotted(loc: Sequence[Any]) -> str:
    """``slas[0].window``; a key that is no plain name is quoted (``windows['my w']``)."""
    out = ""
    for p in loc:
        if isinstance(p, int) and not isinstance(p, bool):
            out += f"[{p}]"
        elif isinstance(p, str) and _PLAIN_NAME.match(p):
            out += f".{p}" if out else p
        else:
            out += f"[{_short(p)}]"
    return out


def _shows_input(err: ErrorDetails) -> bool:
    return err["type"] not in _QUIET_INPUTS and not isinstance(err.get("input"), dict)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= INPUT_SHOWN_MAX else text[: INPUT_SHOWN_MAX - 3] + "..."
