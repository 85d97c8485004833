"""Atomic writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

from pathlib import Path

import pytest

from slagate.files import PRIVATE_MODE, atomic_path, write_atomically


def test_the_file_is_replaced_whole_and_readable_by_everyone(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("old")
    write_atomically(path, "new")
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_credentials_file_stays_private(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    write_atomically(path, b"token: x", mode=PRIVATE_MODE)
    assert path.stat().st_mode & 0o777 == 0o600
