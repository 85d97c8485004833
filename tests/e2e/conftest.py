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


def slagate(args: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (`python -m slagate`) from the repository root."""
    with start_slagate(args, subprocess.PIPE, subprocess.PIPE) as cli:
        try:
            stdout, stderr = cli.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            cli.kill()
            raise
    return subprocess.CompletedProcess(cli.args, cli.returncode, stdout, stderr)


def start_slagate(
    args: Sequence[str], stdout: IO[str] | int, stderr: IO[str] | int
) -> subprocess.Popen[str]:
    """The real CLI from the repository root, in the background (wide terminal output)."""
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
