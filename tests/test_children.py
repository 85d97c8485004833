"""``FileGuard``: a file that must not outlive its process is removed however it ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from slagate.children import FileGuard, child_environment

OWNER = """
import sys, time
from pathlib import Path
from slagate.children import FileGuard
guard = FileGuard([Path(sys.argv[1])])
Path(sys.argv[1]).write_text("token")
print(guard.pid, flush=True)
time.sleep(60)
"""


def _gone(path: Path, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_guarded_file_goes_when_its_owner_is_killed_with_sigkill(tmp_path: Path) -> None:
    secret = tmp_path / "kubeconfig"
    with subprocess.Popen(
        [sys.executable, "-c", OWNER, str(secret)],
        stdout=subprocess.PIPE,
        env=child_environment(),
    ) as owner:
        assert owner.stdout is not None
        guard_pid = int(owner.stdout.readline())
        assert secret.read_text() == "token"
        owner.send_signal(signal.SIGKILL)
    assert _gone(secret), "the guarded file outlived its owner"
    assert _gone(Path(f"/proc/{guard_pid}")), "the guard outlived its owner"


def test_close_removes_the_file_and_ends_the_guard(tmp_path: Path) -> None:
    secret = tmp_path / "kubeconfig"
    guard = FileGuard([secret, tmp_path / "never-written"])
    secret.write_text("token")
    guard.close()
    guard.close()  # idempotent
    assert not secret.exists()
    assert not Path(f"/proc/{guard.pid}").exists()
