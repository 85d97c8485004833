"""Opening a page in headless Chromium (Debian's ``chromium``) and reading what it logged.

Chromium with ``--enable-logging=stderr --v=0`` writes every console message of the page
(``console.error``, an uncaught exception, a script that failed to load) to stderr as a
``CONSOLE`` line; ``--dump-dom`` prints the DOM once the page has loaded and the virtual
time budget has run out (timers fire, the figures are drawn). A fresh profile per call, no
network beyond the file, no background services.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",  # virtual ms: page timers run to completion at once
    "--dump-dom",
)


@dataclass(frozen=True)
class Page:
    dom: str
    console: list[str]  # every console message the page logged


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (`make install` installs it as root)")


def open_page(path: Path, timeout_s: float = 90.0) -> Page:
    """Load ``path`` in a fresh headless Chromium; its DOM afterwards and console lines."""
    with tempfile.TemporaryDirectory(prefix="slagate-chromium-") as profile:
        argv = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", path.resolve().as_uri()]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return Page(done.stdout, console)
