"""The sandbox as a user gets it: a built wheel in a fresh venv, run from an empty folder.

Nothing from the checkout is on the path: the wheel is built from a copy of the sources
and installed alone into a fresh venv, and ``slagate sandbox up|status|down`` run with
their defaults, so the manifests and settings can only come from the package data. The
dependencies come from this development venv: its site-packages is on the new venv's path
behind the venv's own (a ``.pth`` line, which adds the folder without running the ``.pth``
files in it, so the checkout's editable slagate stays off the path). Installing them
afresh cost ~40 s and removing them ~35 s of every CI run, for dependencies that are the
same pyproject's; ``pip check`` still fails on a requirement the wheel declares and the
environment lacks.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import psutil
import pytest

from slagate.sandbox.daemon import read_state

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
STATE_DIR = Path(".slagate/sandbox/default")


def run(argv: Sequence[str], cwd: Path, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    """``argv`` with no trace of the development environment (no PYTHONPATH, no venv)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=env)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the wheel of this checkout, its dependencies from this venv."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    shutil.copytree(
        REPO / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run([*pip, "wheel", "--no-deps", "--wheel-dir", str(root / "dist"), str(source)], root)
    (wheel,) = (root / "dist").glob("slagate-*.whl")
    run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], root)
    python = root / "venv" / "bin" / "python"
    (own,) = (root / "venv" / "lib").glob("python*/site-packages")
    (own / "development-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    install = [*pip, "--python", str(python), "install", "--no-deps", "--ignore-installed"]
    run([*install, str(wheel)], root, timeout_s=300)
    run([*pip, "--python", str(python), "check"], root)
    yield root / "venv"
    shutil.rmtree(root)


@pytest.fixture
def empty_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "empty"
    folder.mkdir()
    yield folder
    state = read_state(folder / STATE_DIR)
    if state is not None and psutil.pid_exists(state.pid):  # a failed test: leave nothing
        family = [psutil.Process(state.pid), *psutil.Process(state.pid).children(recursive=True)]
        for process in family:
            process.kill()


def test_the_installed_sandbox_runs_from_an_empty_folder_and_leaves_nothing(
    venv: Path, empty_folder: Path
) -> None:
    slagate = str(venv / "bin" / "slagate")
    where = run(
        [str(venv / "bin" / "python"), "-c", "import slagate; print(slagate.__file__)"],
        empty_folder,
    )

    up = run([slagate, "sandbox", "up", "--timeout", "90"], empty_folder)
    state = read_state(empty_folder / STATE_DIR)
    assert state is not None
    daemon = psutil.Process(state.pid)
    family, daemon_python = [daemon, *daemon.children(recursive=True)], daemon.cmdline()[0]
    status = run([slagate, "sandbox", "status"], empty_folder)
    down = run([slagate, "sandbox", "down"], empty_folder)

    assert Path(where.stdout.strip()).is_relative_to(venv)
    assert Path(daemon_python).parent == venv / "bin"
    assert "default/order" in up.stdout and "default/product" in up.stdout
    assert any(line.split()[:2] == ["product", "2/2"] for line in status.stdout.splitlines())
    assert f"stopped (pid {state.pid})" in down.stdout
    assert [p.pid for p in family if p.is_running()] == []
