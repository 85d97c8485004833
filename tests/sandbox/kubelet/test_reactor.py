"""The kubelet's loop thread: posted calls, timers, process exits."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from slagate.sandbox.kubelet.reactor import Reactor


@pytest.fixture
def reactor() -> Iterator[Reactor]:
    loop = Reactor(time.time)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    yield loop
    loop.stop()
    thread.join(5)
    assert not thread.is_alive()
    loop.close()


def test_timers_run_in_time_order_and_cancelled_ones_never(reactor: Reactor) -> None:
    seen: list[str] = []
    done = threading.Event()

    def arm() -> None:
        now = time.time()
        reactor.call_at(now + 0.10, lambda: seen.append("late"))
        reactor.call_at(now + 0.05, lambda: seen.append("early"))
        reactor.call_at(now + 0.07, lambda: seen.append("cancelled")).cancel()
        reactor.call_at(now + 0.15, done.set)

    reactor.call_soon(arm)

    assert done.wait(2)
    assert seen == ["early", "late"]


def test_call_returns_the_result_and_a_failing_callback_does_not_stop_the_loop(
    reactor: Reactor, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise ValueError("boom")

    reactor.call_soon(boom)

    assert reactor.call(lambda: 6 * 7).result(2) == 42
    with pytest.raises(ValueError, match="boom"):
        reactor.call(boom).result(2)
    assert "kubelet callback" in caplog.text


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "waiting-thread"])
def test_on_exit_reports_the_return_code(
    reactor: Reactor, monkeypatch: pytest.MonkeyPatch, pidfd: bool
) -> None:
    if not pidfd:
        monkeypatch.delattr(os, "pidfd_open")
    codes: list[int] = []
    done = threading.Event()
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(5)"])

    def watch() -> None:
        reactor.on_exit(process, lambda code: (codes.append(code), done.set()))

    reactor.call_soon(watch)

    assert done.wait(5)
    assert codes == [5]
    assert process.returncode == 5
