"""The exception tree: one module defines it, every class hangs under ``SlagateError``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import slagate
from slagate import errors

PACKAGE = Path(slagate.__file__).parent
EXCEPTION_NAMES = {name for name, value in vars(errors).items() if isinstance(value, type)} | {
    "Exception",
    "BaseException",
    "RuntimeError",
    "ValueError",
    "OSError",
    "KeyError",
}


def test_every_error_class_derives_from_the_root() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, BaseException)
    ]

    assert len(classes) > 30
    assert [c.__name__ for c in classes if not issubclass(c, errors.SlagateError)] == []


def test_every_error_class_is_drawn_in_the_tree() -> None:
    drawn = errors.__doc__ or ""
    classes = [
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.SlagateError)
    ]

    assert [name for name in classes if f" {name} " not in drawn.replace("\n", " \n")] == []


def test_no_module_outside_errors_defines_an_exception() -> None:
    """A subtree elsewhere is how the tree drifted before: define new errors in errors.py."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                if bases & EXCEPTION_NAMES - {
                    "FieldCause",
                    "StatusCause",
                    "StatusDetails",
                    "ExitCode",
                }:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")

    assert offenders == []


def test_no_slagate_error_is_a_third_party_error() -> None:
    """Callers catch slagate's tree only: a library's error must be wrapped, never be one
    of ours (kopf asserts the same of its APIError and aiohttp)."""
    import httpx
    import pyarrow as pa
    import pydantic
    import urllib3.exceptions
    import yaml
    from kubernetes.client.exceptions import OpenApiException

    foreign = (
        httpx.HTTPError,
        pa.ArrowException,
        pydantic.ValidationError,
        urllib3.exceptions.HTTPError,
        yaml.YAMLError,
        OpenApiException,
        OSError,
    )
    ours = [v for v in vars(errors).values() if inspect.isclass(v) and issubclass(v, Exception)]
    assert [c.__name__ for c in ours if issubclass(c, foreign)] == []
