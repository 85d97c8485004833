"""Writing a file so that no reader ever sees half of it, with the same permissions always.

Every artifact of a run folder (run.json, summary.json, report.html, the Parquet parts)
and every state file of the sandbox goes through ``atomic_path``: the content is written
to a temporary file beside the target, given ``mode`` and renamed over the target, so a
reader (a teammate, a CI job uploading the folder as another user, a watching process)
sees the old file or the new one, complete, and can read it. ``mkstemp`` alone would
leave 0600 files; the umask alone would make the mode depend on who ran slagate.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard

ARTIFACT_MODE = 0o644
"""Readable by everyone, writable by the owner: run folders are shared and uploaded."""

PRIVATE_MODE = 0o600
"""For files holding credentials (a kubeconfig with a token)."""

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full(error: BaseException) -> TypeGuard[OSError]:
    """Whether ``error`` says the disk (or the user's quota) is full: waiting rarely helps."""
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS


@contextlib.contextmanager
def atomic_path(path: Path, mode: int = ARTIFACT_MODE) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``path`` with ``mode``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        temporary.chmod(mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, content: str | bytes, mode: int = ARTIFACT_MODE) -> None:
    """Replace ``path`` with ``content`` (text is written as UTF-8) in one step."""
    data = content.encode() if isinstance(content, str) else content
    with atomic_path(path, mode) as temporary:
        temporary.write_bytes(data)
