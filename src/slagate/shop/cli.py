"""``slagate shop product|order``: run one replica of a reference shop service.

Both commands block until SIGTERM/SIGINT. Every problem found before serving (bad option,
unwritable or unreachable database, taken port) is a click error with exit status 2, never
a traceback.

The database is a SQLite file (``--db PATH``, the default ``shop.db``) or a URL
(``--database-url``, or ``SLAGATE_SHOP_DATABASE_URL`` so that a password stays out of the
process list: Kubernetes sets it from a Secret).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from slagate.errors import ConfigError
from slagate.extras import SANDBOX, exit_without
from slagate.numbers import Seconds
from slagate.shop.database import DEFAULT_SQLITE_PATH, Backend, DatabaseUrl
from slagate.shop.settings import AppSettings, ServerSettings, SigtermMode, UpstreamSettings

F = TypeVar("F", bound=Callable[..., Any])

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATABASE_URL_ENV = "SLAGATE_SHOP_DATABASE_URL"


def _service_options(command: F) -> F:
    """The options both services take, documented once."""
    options = [
        click.option(
            "--host", default="127.0.0.1", show_default=True, help="Address to listen on.",
        ),
        click.option(
            "--port", required=True, type=click.IntRange(0, 65535),
            help="TCP port to listen on; 0 picks a free one (logged).",
        ),
        click.option(
            "--db", "db_path", default=None,
            type=click.Path(dir_okay=False, path_type=Path),
            help=f"SQLite file shared by the replicas on this machine; created if missing. "
            f"[default: {DEFAULT_SQLITE_PATH}]",
        ),
        click.option(
            "--database-url", envvar=DATABASE_URL_ENV, show_envvar=True, metavar="URL",
            help="The database instead of --db: postgresql://USER:PASSWORD@HOST:PORT/DBNAME "
            "(replicas on many nodes share it; needs slagate[postgres]) or sqlite:///PATH.",
        ),
        click.option(
            "--startup-delay", "startup_delay_s", default=0.0, show_default=True,
            type=Seconds(), help="Seconds after start during which readiness fails.",
        ),
        click.option(
            "--fail-while-starting", is_flag=True,
            help="Answer business requests 503 until the start-up delay has passed.",
        ),
        click.option(
            "--cpu-ms", default=0.0, show_default=True, type=click.FloatRange(min=0),
            help="CPU milliseconds burnt per business request.",
        ),
        click.option(
            "--latency-ms", default=0.0, show_default=True, type=click.FloatRange(min=0),
            help="Milliseconds every business request waits, without using CPU (a slow "
            "dependency).",
        ),
        click.option(
            "--error-ratio", default=0.0, show_default=True, type=click.FloatRange(0, 1),
            help="Share of business requests answered 500 without doing the work "
            "(deterministic: 0.1 fails every 10th).",
        ),
        click.option(
            "--on-sigterm", default=SigtermMode.DRAIN.value, show_default=True,
            type=click.Choice([mode.value for mode in SigtermMode]),
            help="drain: finish in-flight requests, exit 0. exit: die at once (fault mode).",
        ),
        click.option(
            "--drain-timeout", "drain_timeout_s", default=10.0, show_default=True,
            type=Seconds(), help="Seconds allowed to finish in-flight requests.",
        ),
        click.option(
            "--reuse-port", is_flag=True,
            help="Share the port with other replicas started with this flag (SO_REUSEPORT).",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@click.group(name="shop")
def shop() -> None:
    """The reference shop: a product and an order service, one process per replica."""
    exit_without(SANDBOX, "the reference shop")


@shop.command()
@_service_options
def product(**options: Any) -> None:
    """Run one replica of the product service."""
    from slagate.shop.serving import run_product_service  # fastapi only when serving

    server, app = _checked(lambda: _settings(options))
    _run(lambda: run_product_service(server, app))


@shop.command()
@_service_options
@click.option(
    "--product-url",
    required=True,
    help="Base URL of the product service, e.g. http://127.0.0.1:8001.",
)
@click.option(
    "--product-timeout", "product_timeout_s", default=5.0, show_default=True,
    type=Seconds(positive=True), help="Seconds allowed per product service call.",
)  # fmt: skip
def order(product_url: str, product_timeout_s: float, **options: Any) -> None:
    """Run one replica of the order service."""
    from slagate.shop.serving import run_order_service  # fastapi only when serving

    server, app = _checked(lambda: _settings(options))
    upstream = _checked(lambda: UpstreamSettings(product_url, timeout_s=product_timeout_s))
    _run(lambda: run_order_service(server, app, upstream))


def _settings(options: dict[str, Any]) -> tuple[ServerSettings, AppSettings]:
    server = ServerSettings(
        database=_database(options["db_path"], options["database_url"]),
        host=options["host"],
        port=options["port"],
        reuse_port=options["reuse_port"],
        on_sigterm=SigtermMode(options["on_sigterm"]),
        drain_timeout_s=options["drain_timeout_s"],
    )
    app = AppSettings(
        startup_delay_s=options["startup_delay_s"],
        cpu_ms=options["cpu_ms"],
        latency_ms=options["latency_ms"],
        fail_while_starting=options["fail_while_starting"],
        error_ratio=options["error_ratio"],
    )
    return server, app


def _database(path: Path | None, url: str | None) -> DatabaseUrl:
    """The database ``--db`` or ``--database-url`` names (SQLite ``shop.db`` if neither).

    The command line beats the environment: ``--db`` wins over a URL from
    ``SLAGATE_SHOP_DATABASE_URL`` (a shell that exported it still runs the sandbox's and
    ``LocalShop``'s replicas on their SQLite files); both options on the line are refused.
    """
    if path is not None and url is not None:
        source = click.get_current_context().get_parameter_source("database_url")
        if source is not click.core.ParameterSource.ENVIRONMENT:
            raise click.UsageError("--db and --database-url both name a database; give one")
        url = None
    if url is None:
        database, hint = DatabaseUrl.sqlite(path or DEFAULT_SQLITE_PATH), "--db"
    else:
        database, hint = _checked(lambda: DatabaseUrl.parse(url)), "--database-url"
    if database.backend is Backend.SQLITE:
        _check_db_path(database.path, hint)
    return database


def _check_db_path(path: Path, hint: str) -> None:
    """Fail early, naming the option, if SQLite could not create or open ``path``."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise click.BadParameter(f"directory {directory} does not exist", param_hint=hint)
    if path.exists() and not path.is_file():
        raise click.BadParameter(f"{path} is not a regular file", param_hint=hint)


T = TypeVar("T")


def _checked(make: Callable[[], T]) -> T:
    try:
        return make()
    except ConfigError as e:
        raise click.UsageError(str(e)) from e


def _run(serve: Callable[[], None]) -> None:
    """Configure logging and serve; configuration errors become click usage errors."""
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT, stream=sys.stderr)
    _checked(serve)
