"""Reading YAML that people write: bytes to text, PyYAML's safe loader made total, problems
on one line with their line number.

Scenario files and sandbox manifests come from editors, downloads and copy-paste. Both
readers go through here, so whatever a file holds ends in the same ``YamlProblem``
(with the line where one is known), never in a ``UnicodeDecodeError``, a
``RecursionError`` or the ``ValueError`` PyYAML's constructors raise for ``!!float abc``.
"""

from __future__ import annotations

import codecs
from typing import Any

import yaml

from slagate.errors import YamlProblem

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""Encodings a YAML file may announce with a byte order mark (YAML allows UTF-16, which
some Windows editors save); without one, the file is UTF-8 whatever the locale."""


def decoded(data: bytes) -> str:
    """The text of a YAML file; ``YamlProblem`` at the first byte that is not text."""
    encoding = next((name for bom, name in BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        shown = encoding.upper().removesuffix("-SIG")
        raise YamlProblem(
            data[: e.start].count(b"\n") + 1,
            f"not {shown} text (byte {data[e.start : e.start + 1].hex()} at offset "
            f"{e.start}); save the file as UTF-8",
        ) from e


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python tags), but a value its tag cannot hold
    (``!!float abc``, ``!!timestamp 5``, ``!!map x``) is a ``ConstructorError`` at that
    value, as any other YAML mistake, not a bare ``ValueError`` or ``AttributeError``."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
            raise yaml.constructor.ConstructorError(
                None, None, f"the value does not fit its tag {short_tag(node)}", node.start_mark
            ) from e


def short_tag(node: yaml.Node) -> str:
    return node.tag.replace("tag:yaml.org,2002:", "!!")


def loaded(text: str, loader: type[SafeLoader] = SafeLoader, *, every: bool = False) -> Any:
    """The document in ``text`` (with ``every``: the list of its documents);
    ``YamlProblem`` for whatever the YAML gets wrong."""
    try:
        if every:
            return list(yaml.load_all(text, Loader=loader))
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        raise _problem(e, text) from e
    except RecursionError as e:  # PyYAML composes nested collections recursively
        raise YamlProblem(None, "values nested too deeply to read") from e


def _problem(error: yaml.YAMLError, text: str) -> YamlProblem:
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        line: int | None = mark.line + 1
        problem = getattr(error, "problem", None) or str(error)
    elif isinstance(error, yaml.reader.ReaderError):  # a character YAML forbids
        line = text[: error.position].count("\n") + 1
        problem = f"character #x{error.character:04x} is not allowed in YAML"
        if error.character == 0:  # what UTF-16 read as UTF-8 looks like
            problem += " (UTF-16 without a byte order mark? save the file as UTF-8)"
    else:
        line, problem = None, str(error)
    return YamlProblem(line, " ".join(problem.split()))
