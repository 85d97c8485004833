"""Fakes shared by the tests: one clock, one free port, one small disk. Import them, do
not copy them.

Real parts are used wherever a user would have them (servers on loopback, processes,
Locust); these stand in only for what a test must control: time, and a disk that fills.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slagate.shop.launching import free_port

__all__ = ["START_S", "FakeClock", "fill_disk", "free_port", "small_disk"]


@contextlib.contextmanager
def small_disk(path: Path, size: str = "2m") -> Iterator[Path]:
    """``path`` as a tmpfs of ``size`` for the block (skips the test where mounting is not
    allowed), unmounted after."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_disk(path: Path) -> None:
    """Write ``path`` until its disk is full, to the last byte."""
    chunk = b"\0" * 65536
    for size in (chunk, b"\0"):  # whole chunks, then the last bytes of the last block
        with path.open("ab", buffering=0) as out, contextlib.suppress(OSError):
            while True:
                out.write(size)


START_S = 1_700_000_000.0
"""A round epoch second (2023-11-14T22:13:20Z) tests start their clocks at."""


class FakeClock:
    """A clock in seconds that moves only when told, or by ``step_s`` on every read.

    Call it for the time as a float (``time.time``/``time.monotonic`` style); ``utc``
    gives the same instant as an aware ``datetime`` for clocks of that type.
    """

    def __init__(self, now_s: float = START_S, step_s: float = 0.0) -> None:
        self.now_s = now_s
        self.step_s = step_s
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now_s += self.step_s
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now_s, UTC)
