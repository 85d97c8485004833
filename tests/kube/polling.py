"""Waiting for what a background thread records, bounded in time (no fixed sleeps)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from slagate.kube.watching import ClusterRecorder
from slagate.timeline import read_table

T = TypeVar("T")


def eventually(probe: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 5.0) -> T:
    """Call ``probe`` until ``done(result)``; the last result either way."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.01)


def table(recorder: ClusterRecorder, run_dir: Path, name: str) -> pd.DataFrame:
    recorder.flush()
    return read_table(run_dir, name)


def pod_transitions(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["name"], frame["transition"], strict=True))
