"""Importing a scenario's locustfile and picking its User classes (Locust's own loader)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from locust.util.load_locustfile import load_locustfile

from slagate.errors import LoadError


def load_user_classes(path: Path, wanted: list[str], scenario_path: Path) -> list[Any]:
    """The locustfile's User classes (only ``wanted`` ones, in that order, if given).

    ``path`` is relative to the working directory, like Locust's ``-f``. Every problem is
    a ``LoadError`` naming the file and what to do.
    """
    if not path.is_file():
        raise LoadError(
            f"locustfile {path} not found (load.locustfile in {scenario_path}; paths are "
            f"relative to the working directory {Path.cwd()})"
        )
    available = _import(path)
    if not available:
        raise LoadError(
            f"locustfile {path} defines no User classes; define a subclass of "
            "locust.HttpUser or FastHttpUser with tasks"
        )
    if not wanted:
        return list(available.values())
    missing = [name for name in wanted if name not in available]
    if missing:
        raise LoadError(
            f"load.user_classes in {scenario_path}: {', '.join(missing)} not in {path}; "
            f"it defines {', '.join(sorted(available))}"
        )
    return [available[name] for name in wanted]


def _import(path: Path) -> dict[str, Any]:
    try:
        user_classes, _shapes = load_locustfile(str(path))
    except (Exception, SystemExit) as e:
        raise LoadError(f"cannot import locustfile {path}: {type(e).__name__}: {e}") from e
    return dict(user_classes)
