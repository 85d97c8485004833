"""``summary.json``: the verdicts of a judged run and its exit code.

The only module of ``slagate.sla`` that does I/O. The format is fixed (docs/contracts.md):
``{"exit_code": N, "verdicts": [Verdict.to_json(), ...], ...extra}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slagate.errors import TimelineError
from slagate.sla.verdict import Verdict
from slagate.timeline import write_json

SUMMARY = "summary.json"
_RESERVED = ("exit_code", "verdicts")


@dataclass(frozen=True)
class Summary:
    """A read ``summary.json``: ``extra`` holds every key besides the two fixed ones.

    Iterating a summary yields its verdicts, in scenario order.
    """

    exit_code: int
    verdicts: tuple[Verdict, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)


def write_summary(
    run_dir: Path, verdicts: Iterable[Verdict], exit_code: int, /, **extra: Any
) -> Path:
    """Write ``run_dir/summary.json`` atomically and return its path.

    ``extra`` adds top-level keys (e.g. ``aborted=True``); it cannot replace the fixed ones.
    """
    clash = [k for k in _RESERVED if k in extra]
    if clash:
        raise ValueError(f"summary keys {clash} are reserved; pass them as arguments")
    path = Path(run_dir) / SUMMARY
    data = {**extra, "exit_code": exit_code, "verdicts": [v.to_json() for v in verdicts]}
    write_json(path, data)
    return path


def read_summary(run_dir: Path) -> Summary:
    """Read ``run_dir/summary.json``; a missing or malformed file is a ``TimelineError``."""
    path = Path(run_dir) / SUMMARY
    try:
        data = json.loads(path.read_text())
        verdicts = tuple(Verdict.from_json(v) for v in data["verdicts"])
        extra = {k: v for k, v in data.items() if k not in _RESERVED}
        return Summary(exit_code=int(data["exit_code"]), verdicts=verdicts, extra=extra)
    except FileNotFoundError as e:
        raise TimelineError(
            f"{path} is missing: the run was not judged yet; run `slagate check {run_dir}`"
        ) from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise TimelineError(f"cannot read {path}: {e!r}") from e
