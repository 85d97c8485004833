"""Importing a scenario's locustfile and picking its User classes (Locust's own loader).

One picker for both ways a run starts: the load child imports the locustfile itself,
plain ``locust -f`` hands over the classes it imported; a scenario's ``load.user_classes``
naming a class the locustfile lacks is the same ``ConfigError`` either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from locust.util.load_locustfile import load_locustfile

from slagate.errors import ConfigError, LoadError


def load_user_classes(path: Path, wanted: Sequence[str], scenario_path: Path) -> list[Any]:
    """The locustfile's User classes (only ``wanted`` ones, in that order, if given).

    ``path`` is relative to the working directory, like Locust's ``-f``.
    """
    if not path.is_file():
        raise ConfigError(
            f"{scenario_path}: load.locustfile {path} not found (paths are relative to the "
            f"working directory {Path.cwd()})"
        )
    return pick_user_classes(_import(path), wanted, scenario_path, path)


def pick_user_classes(
    available: Mapping[str, Any], wanted: Sequence[str], scenario_path: Path | None, path: Path
) -> list[Any]:
    """The ``wanted`` classes of ``available`` (all when none is named), in that order."""
    if not available:
        raise ConfigError(
            f"locustfile {path} defines no User classes; define a subclass of "
            "locust.HttpUser or FastHttpUser with tasks"
        )
    missing = [name for name in wanted if name not in available]
    if missing:
        where = f"{scenario_path}: " if scenario_path is not None else ""
        raise ConfigError(
            f"{where}load.user_classes: {', '.join(missing)} not in {path}; "
            f"it defines {', '.join(sorted(available))}"
        )
    return [available[name] for name in wanted] if wanted else list(available.values())


def _import(path: Path) -> dict[str, Any]:
    try:
        user_classes, _shapes = load_locustfile(str(path))
    except (Exception, SystemExit) as e:
        raise LoadError(f"cannot import locustfile {path}: {type(e).__name__}: {e}") from e
    return dict(user_classes)
