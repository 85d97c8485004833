"""Containers as PID 1 of a PID namespace: the probe of the host, and the kernel's rule
that makes a shell entrypoint deaf to SIGTERM, shown with real processes.

The real-process tests need root (a PID namespace needs CAP_SYS_ADMIN) and util-linux's
``unshare``; they are skipped, saying so, where the host has neither.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slagate.sandbox.kubelet.pidnamespaces import (
    PidIsolation,
    namespace_init,
    probe_isolation,
    signal_init,
)

ISOLATION = probe_isolation()
needs_namespaces = pytest.mark.skipif(
    not ISOLATION.available, reason=f"no PID namespaces here: {ISOLATION.reason}"
)
# Touches argv[1] + ".armed" once its SIGTERM handler is set; writes argv[1] and exits 0
# on SIGTERM: a well-behaved app that drains when told to.
APP = """
import signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
def on_term(*_):
    out.write_text("SIGTERM")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
Path(str(out) + ".armed").touch()
while True:
    time.sleep(0.05)
"""


def test_no_unshare_program_means_process_groups_and_says_why() -> None:
    isolation = probe_isolation(which=lambda _: None)

    assert not isolation.available
    assert isolation.wrap(["sh", "-c", "x"]) == ["sh", "-c", "x"]
    assert "unshare program is not installed" in isolation.describe()
    assert "SIGKILLed at the end of its grace period on a cluster" in isolation.describe()


def test_not_root_means_process_groups_and_says_why() -> None:
    isolation = probe_isolation(which=lambda _: "/usr/bin/unshare", euid=lambda: 1000)

    assert not isolation.available
    assert "not root: a PID namespace needs CAP_SYS_ADMIN" in isolation.describe()


def test_a_failing_trial_namespace_means_process_groups() -> None:
    isolation = probe_isolation(which=lambda _: "/bin/false", euid=lambda: 0)

    assert not isolation.available
    assert "unshare --pid failed: exit code 1" in isolation.reason


def test_wrap_runs_the_command_under_unshare_as_pid_1() -> None:
    isolation = PidIsolation("/usr/bin/unshare")

    assert isolation.wrap(["sh", "-c", "x"]) == [
        "/usr/bin/unshare",
        *("--pid", "--fork", "--kill-child", "--"),
        *("sh", "-c", "x"),
    ]
    assert isolation.describe().startswith("PID 1 in a PID namespace")


def test_namespace_init_reads_the_wrappers_only_child(tmp_path: Path) -> None:
    task = tmp_path / "41" / "task" / "41"
    task.mkdir(parents=True)
    (task / "children").write_text("42 ")

    assert namespace_init(41, proc=tmp_path) == 42
    assert namespace_init(7, proc=tmp_path) is None  # gone


def start(script: str, out: Path) -> subprocess.Popen[bytes]:
    app = out.parent / "app.py"
    app.write_text(APP)
    command = script.format(app=f"{sys.executable} {app} {out}")
    argv = ISOLATION.wrap(["sh", "-c", command])
    process = subprocess.Popen(argv, start_new_session=True)
    deadline = time.monotonic() + 20
    while not (Path(f"{out}.armed").exists() and namespace_init(process.pid) is not None):
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.02)
    return process


@needs_namespaces
def test_a_shell_as_pid_1_drops_sigterm_and_its_app_never_learns(tmp_path: Path) -> None:
    out = tmp_path / "got"
    process = start("{app}", out)  # dash forks: the app is the shell's child
    try:
        assert signal_init(process.pid, signal.SIGTERM)
        # the kernel drops the signal at once (PID 1, no handler): nothing will happen
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(1.0)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    assert not out.exists()
    assert process.returncode == -signal.SIGKILL


@needs_namespaces
def test_a_shell_that_execs_hands_pid_1_to_the_app_which_drains(tmp_path: Path) -> None:
    out = tmp_path / "got"
    process = start("exec {app}", out)
    try:
        assert signal_init(process.pid, signal.SIGTERM)
        process.wait(10)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it is gone, as it should be
            os.killpg(process.pid, signal.SIGKILL)

    assert out.read_text() == "SIGTERM"
    assert process.returncode == 0
