"""``slagate[sandbox]`` and ``slagate[postgres]``: the extras' lists, and what a command says
on an install without one.

The missing packages are simulated in a child process by putting None in ``sys.modules``
(what Python does for an import that must fail), so the test runs in the full dev
environment and leaves it untouched.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from slagate.errors import ExtraNotInstalled
from slagate.extras import POSTGRES, SANDBOX, Extra
from slagate.shop.launching import LocalShop

REPO = Path(__file__).resolve().parents[1]
WITHOUT_EXTRA = """
import sys
for module in {modules!r}:
    sys.modules[module] = None
from slagate.cli import main
main(sys.argv[1:], prog_name="slagate")
"""


def slagate_without_extra(
    args: list[str], cwd: Path, extra: Extra = SANDBOX
) -> subprocess.CompletedProcess[str]:
    script = WITHOUT_EXTRA.format(modules=extra.modules)
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("extra", [SANDBOX, POSTGRES], ids=lambda extra: extra.name)
def test_each_extra_names_the_packages_pyproject_lists(extra: Extra) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["optional-dependencies"][extra.name]

    names = {re.split(r"[<>=!~\[; ]", requirement)[0].lower() for requirement in requirements}

    assert names == set(extra.modules)


def test_a_postgres_url_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    args = ["shop", "product", "--port", "0", "--database-url", "postgresql://db/shop"]

    done = slagate_without_extra(args, tmp_path, POSTGRES)

    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: a PostgreSQL database needs packages that are not installed (psycopg): "
        "pip install 'slagate[postgres]'"
    )


def test_require_names_what_is_missing_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)

    with pytest.raises(ExtraNotInstalled) as raised:
        Extra("sandbox", ("json", "uvicorn")).require("the shop")

    assert str(raised.value) == (
        "the shop needs packages that are not installed (uvicorn): pip install 'slagate[sandbox]'"
    )


@pytest.mark.parametrize(
    ("args", "part"),
    [
        pytest.param(["sandbox", "up", "--state-dir", "s"], "the sandbox", id="sandbox-up"),
        pytest.param(["sandbox", "status", "--state-dir", "s"], "the sandbox", id="status"),
        pytest.param(["shop", "product", "--port", "0"], "the reference shop", id="shop"),
    ],
)
def test_a_command_without_the_extra_says_how_to_install_it(
    args: list[str], part: str, tmp_path: Path
) -> None:
    done = slagate_without_extra(args, tmp_path)

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"Error: {part} needs packages that are not installed "
        "(fastapi, uvicorn, aiohttp, jsonpatch, cryptography): pip install 'slagate[sandbox]'"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [pytest.param(["--help"], id="slagate"), pytest.param(["sandbox", "--help"], id="group")],
)
def test_help_works_without_the_extra(args: list[str], tmp_path: Path) -> None:
    done = slagate_without_extra(args, tmp_path)

    assert (done.returncode, done.stderr) == (0, "")


def test_the_local_shop_refuses_to_start_without_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)

    with pytest.raises(ExtraNotInstalled, match=r"pip install 'slagate\[sandbox\]'"):
        LocalShop.start(tmp_path / "shop")

    assert list(tmp_path.iterdir()) == []
