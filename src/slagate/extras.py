"""Optional parts of slagate and the packages each needs, checked before the part is used.

The gate against a real cluster needs none of them. ``pip install 'slagate[sandbox]'``
adds what the reference shop serves with (FastAPI on uvicorn, aiohttp towards the product
service) and what the sandbox adds on top (``jsonpatch`` and ``cryptography``, for the
TLS certificate, for its API server); the sandbox
runs the shop as its pods, so both share one extra. ``pip install 'slagate[postgres]'``
adds psycopg 3, for a shop whose replicas share a PostgreSQL server instead of a SQLite
file (``--database-url postgresql://...``).

Without the check a missing package shows up late and far away: as a traceback from deep
inside a command, or as pods that crash in a loop while the sandbox itself looks healthy.
``Extra.require`` says it at once, with the command that fixes it. A test keeps each
extra's ``modules`` equal to its list in ``pyproject.toml``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import click

from slagate.errors import ExitCode, ExtraNotInstalled


@dataclass(frozen=True)
class Extra:
    """An optional dependency group of the ``slagate`` distribution."""

    name: str
    modules: tuple[str, ...]
    """The top-level module of each of its packages, as Python imports them."""

    def missing(self) -> list[str]:
        """The modules that cannot be imported here (absent, or blocked in ``sys.modules``)."""
        return [module for module in self.modules if importlib.util.find_spec(module) is None]

    def require(self, part: str) -> None:
        """``ExtraNotInstalled`` (exit 2 in the CLI) naming what is missing and the fix."""
        missing = self.missing()
        if missing:
            raise ExtraNotInstalled(
                f"{part} needs packages that are not installed ({', '.join(missing)}): "
                f"pip install 'slagate[{self.name}]'"
            )


SANDBOX = Extra("sandbox", ("fastapi", "uvicorn", "aiohttp", "jsonpatch", "cryptography"))
"""The reference shop and the sandbox cluster that runs it."""

POSTGRES = Extra("postgres", ("psycopg",))
"""The shop's PostgreSQL driver (psycopg 3, with its bundled libpq)."""


def exit_without(extra: Extra, part: str) -> None:
    """For a click group that needs ``extra``: one line on stderr and exit status 2 (could
    not run) when a package is missing, never a traceback. Call it from the group's body,
    which click runs before any subcommand (``--help`` still works without the extra)."""
    try:
        extra.require(part)
    except ExtraNotInstalled as error:
        click.echo(f"Error: {error}", err=True)
        click.get_current_context().exit(ExitCode.COULD_NOT_RUN)
