"""Faults mid-run (`kill -9`, a full disk): each has a stated outcome, nothing recorded is lost.

The controller: a SIGKILL skips every cleanup it has, so what makes the processes go is
the kernel: each child asked for a signal when its parent dies (``slagate.children``):
SIGTERM for the load child (it flushes), SIGKILL for the sandbox's proxy and Prometheus,
and for each pod of the kubelet. What makes the data stay is the recorder's flush: part
files every 2 s, so the folder holds everything up to the last flush (the load child,
told by SIGTERM, flushes to the end), and ``slagate check`` judges it as a run that never
finished (exit 3). The sandbox's kubeconfig (its bearer token) goes too: a guard child
(``slagate.children.FileGuard``) removes it when the controller's end closes its pipe.

The load child: the controller judges what it flushed as an aborted run (exit 3), naming
the signal. A full disk (a small tmpfs as the reports folder; skipped where mounting is
not allowed): the load stops at the next flush and the run exits 2 naming the folder.
(The sandbox's API server runs inside the controller; Prometheus killed mid-run is
tests/e2e/test_sandbox_prometheus.py.)
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from slagate.errors import ExitCode
from slagate.lifecycle import KILLED_NOTE
from slagate.load.options import DEFAULT_FLUSH_INTERVAL_S
from slagate.shop.launching import LocalShop
from slagate.timeline import Table, read_table
from tests.e2e.conftest import scenario_text, slagate, start_slagate
from tests.fakes import fill_disk, small_disk

pytestmark = pytest.mark.e2e

KILLED = """\
name: killed
target:
  kubernetes: {service: order, services: {product: product}}
load: {shape: constant, users: 4, spawn_rate: 4, duration: 90s}
slas:
  - {id: availability, kind: availability, min_percent: 50, window: load}
"""

LOADED_S = 6  # seconds of recorded load before the kill
OPEN_SECOND_S = 1  # a second is written once it is over
SLACK_S = 1  # the load child's timer on a busy machine


def test_a_controller_killed_mid_run_takes_every_process_with_it_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(KILLED)
    reports = tmp_path / "reports"
    controller = _start_run(path, reports, tmp_path / "output.log", "--sandbox")
    try:
        run_dir = _wait_for_load(reports, controller)
        kubeconfig = run_dir / "sandbox" / "kubeconfig"
        assert kubeconfig.is_file()  # the sandbox's token, while it runs
        processes = psutil.Process(controller.pid).children(recursive=True)
        listening = _listening(processes)
        killed_s = time.time()
        controller.kill()
        controller.wait(10)
    finally:
        if controller.poll() is None:
            controller.kill()
    log = (tmp_path / "output.log").read_text()

    assert len(processes) >= 5, log  # load child, sandbox components, pods, Prometheus
    left = _still_alive(processes, timeout_s=15)
    assert not left, f"outlived the controller: {left}"
    assert listening, "the run's processes listened on no port?"
    answering = [address for address in listening if _answers(address)]
    assert not answering, f"still listening after the kill: {answering}"
    # its guard removed the kubeconfig with the token once the controller was gone
    assert not kubeconfig.exists(), "the sandbox's kubeconfig outlived the controller"

    requests = read_table(run_dir, Table.REQUESTS)
    last_second_end = int(requests["t_s"].max()) + 1
    behind_s = killed_s - last_second_end
    assert behind_s <= DEFAULT_FLUSH_INTERVAL_S + OPEN_SECOND_S + SLACK_S, behind_s
    # the load child, told by SIGTERM, stopped and wrote its last flush
    events = read_table(run_dir, Table.EVENTS)
    stops = events.query("kind == 'load_stop'")
    load_log = (run_dir / "load.log").read_text()[-3000:]
    assert list(stops["message"]) == ["signal"], f"{events}\nload.log:\n{load_log}"

    checked = slagate(["check", str(run_dir)])
    assert checked.returncode == ExitCode.ABORTED, checked.stdout + checked.stderr
    assert KILLED_NOTE in " ".join((checked.stdout + checked.stderr).split())  # rich wraps
    assert "Traceback" not in checked.stderr


def test_a_load_child_killed_mid_run_is_judged_as_aborted_naming_the_signal(
    tmp_path: Path, shop: LocalShop
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        scenario_text(
            shop,
            "load: {shape: constant, users: 2, spawn_rate: 2, duration: 60s}\n"
            "slas:\n  - {id: availability, kind: availability, min_percent: 99, window: load}\n",
        )
    )
    reports = tmp_path / "reports"
    controller = _start_run(path, reports, tmp_path / "output.log")
    try:
        run_dir = _wait_for_load(reports, controller)
        (child,) = [
            p
            for p in psutil.Process(controller.pid).children()
            if "slagate.load" in " ".join(p.cmdline())
        ]
        child.kill()
        code = controller.wait(60)
    finally:
        if controller.poll() is None:
            controller.kill()
    output_text = (tmp_path / "output.log").read_text()

    assert code == ExitCode.ABORTED, output_text
    assert "Traceback" not in output_text
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "aborted"
    assert "the load generator was killed (SIGKILL)" in summary["note"]
    (verdict,) = summary["verdicts"]
    assert verdict["status"] == "pass", verdict  # judged on what was flushed
    assert read_table(run_dir, Table.REQUESTS)["requests"].sum() > 0


def _start_run(path: Path, reports: Path, log: Path, *options: str) -> subprocess.Popen[str]:
    """``slagate run`` in the background, its output into ``log``."""
    with log.open("w") as output:
        return start_slagate(
            ["run", str(path), *options, "--reports", str(reports)], output, output
        )


def _wait_for_load(reports: Path, controller: subprocess.Popen[str]) -> Path:
    """The run folder, once it holds ``LOADED_S`` seconds of requests (a sandbox starts in
    ~15 s)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert controller.poll() is None, "the run ended before it was killed"
        runs = [p for p in reports.iterdir() if p.is_dir()] if reports.exists() else []
        if runs and (runs[0] / Table.REQUESTS.value).exists():
            seconds = read_table(runs[0], Table.REQUESTS)["t_s"]
            if seconds.nunique() >= LOADED_S:
                return runs[0]
        time.sleep(0.5)
    raise AssertionError("no load recorded within 180 s")


def _listening(processes: list[psutil.Process]) -> set[tuple[str, int]]:
    found = set()
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.Error:
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def _still_alive(processes: list[psutil.Process], timeout_s: float) -> list[str]:
    """The processes still running after ``timeout_s`` (a zombie waiting for its reaper
    has exited)."""
    deadline = time.monotonic() + timeout_s
    while True:
        alive = []
        for process in processes:
            try:
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _answers(address: tuple[str, int]) -> bool:
    host = "127.0.0.1" if address[0] in ("0.0.0.0", "::", "") else address[0]
    try:
        with socket.create_connection((host, address[1]), timeout=1):
            return True
    except OSError:
        return False


def test_a_disk_that_fills_mid_run_stops_the_load_with_a_clear_error_and_keeps_the_data(
    tmp_path: Path, shop: LocalShop
) -> None:
    with small_disk(tmp_path / "reports") as reports:
        _disk_fills_mid_run(tmp_path, reports, shop)


PLANNED_S = 60


def _disk_fills_mid_run(tmp_path: Path, reports: Path, shop: LocalShop) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        scenario_text(
            shop,
            f"load: {{shape: constant, users: 2, spawn_rate: 2, duration: {PLANNED_S}s}}\n"
            "slas:\n  - {id: availability, kind: availability, min_percent: 99, window: load}\n",
        )
    )
    controller = _start_run(path, reports, tmp_path / "output.log")
    try:
        run_dir = _wait_for_load(reports, controller)
        filled_s = time.monotonic()
        fill_disk(reports / "filler")
        code = controller.wait(PLANNED_S + 60)
        took_s = time.monotonic() - filled_s
    finally:
        if controller.poll() is None:
            controller.kill()
    output_text = (tmp_path / "output.log").read_text()

    assert code == ExitCode.COULD_NOT_RUN, output_text
    assert "No space left on device" in output_text
    assert f"slagate check {run_dir}" in output_text
    assert "Traceback" not in output_text
    # the load stopped at the next flush (every 2 s), not at its planned end
    assert took_s < PLANNED_S / 2, took_s
    assert read_table(run_dir, Table.REQUESTS)["requests"].sum() > 0  # still readable

    (reports / "filler").unlink()  # room again: what was written is judged
    checked = slagate(["check", str(run_dir)])
    assert checked.returncode == ExitCode.ABORTED, checked.stdout + checked.stderr
