from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import pytest

from slagate.shop.launching import LocalShop
from tests.prom.conftest import exporter, prometheus  # noqa: F401 (fixtures for e2e runs too)

REPO = Path(__file__).resolve().parents[2]


def slagate(
    args: Sequence[str], timeout: float = 120, **kw: object
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (`python -m slagate`) from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "slagate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
        **kw,  # type: ignore[arg-type]
    )


def start_slagate(args: Sequence[str], stdout: IO[str], stderr: IO[str]) -> subprocess.Popen[str]:
    """The real CLI as ``slagate`` runs it, in the background, its output into files."""
    return subprocess.Popen(
        [sys.executable, "-m", "slagate", *args],
        cwd=REPO,
        stdout=stdout,
        stderr=stderr,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def scenario_text(shop: LocalShop, body: str, name: str = "e2e") -> str:
    return (
        f"name: {name}\n"
        f"target:\n  host: {shop.order_url}\n  services: {{product: {shop.product_url}}}\n" + body
    )


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[LocalShop]:
    with LocalShop.start(tmp_path / "shop") as running:
        yield running
