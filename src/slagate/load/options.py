"""slagate's Locust command-line options and where a locustfile's service URLs come from.

Pure: ``add_options`` works on Locust's argument parser (``include_in_web_ui`` is its
keyword), the rest on plain values. Every option also reads an environment variable.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slagate.errors import ConfigError
from slagate.scenario import DEFAULT_MAX_ENDPOINTS, parse_services

HOST_ENV = "LOCUST_HOST"
"""Locust's own environment variable for ``--host``."""
SERVICES_ENV = "SLAGATE_SERVICES"
"""The environment variable of ``--services``."""
DEFAULT_FLUSH_INTERVAL_S = 2.0
DEFAULT_FAILURE_ROWS_PER_S = 100


@dataclass(frozen=True)
class PluginOptions:
    """The slagate options of one Locust process, read from Locust's parsed options.

    - ``scenario``: a scenario file; the run becomes a full experiment (shape, target, SLAs).
    - ``run_dir``: where the run folder goes; None means ``reports/<UTC stamp>-<name>``.
    - ``services``: ``{name: base URL}`` from ``--services``; wins over the scenario's.
    - ``flush_interval_s``: seconds between moves of completed seconds to Parquet.
    - ``failure_rows_per_s``: stored failure rows per second (counts stay exact).
    - ``max_endpoints``: distinct request names recorded before new ones are folded into
      one overflow endpoint; a scenario's ``load.max_endpoints`` sets it.
    """

    scenario: Path | None = None
    run_dir: Path | None = None
    services: Mapping[str, str] | None = None
    flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S
    failure_rows_per_s: int = DEFAULT_FAILURE_ROWS_PER_S
    max_endpoints: int = DEFAULT_MAX_ENDPOINTS

    @classmethod
    def from_namespace(cls, options: Any) -> PluginOptions:
        """From Locust's ``environment.parsed_options`` (None or missing keys: defaults)."""
        scenario = getattr(options, "scenario", None)
        run_dir = getattr(options, "run_dir", None)
        return cls(
            scenario=Path(scenario) if scenario else None,
            run_dir=Path(run_dir) if run_dir else None,
            services=_services(getattr(options, "services", None) or ""),
            flush_interval_s=float(
                getattr(options, "slagate_flush_interval", None) or DEFAULT_FLUSH_INTERVAL_S
            ),
            failure_rows_per_s=int(
                getattr(options, "slagate_failure_rows", None) or DEFAULT_FAILURE_ROWS_PER_S
            ),
            max_endpoints=int(
                getattr(options, "slagate_max_endpoints", None) or DEFAULT_MAX_ENDPOINTS
            ),
        )


def add_options(parser: Any) -> None:
    """Add slagate's options to Locust's parser (``init_command_line_parser``).

    On the parser itself, not a group: only Locust's parser knows ``include_in_web_ui``.
    """
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        env_var="SLAGATE_SCENARIO",
        include_in_web_ui=False,
        help="Scenario file: load shape, target, SLAs.",
    )
    parser.add_argument(
        "--run-dir",
        metavar="DIR",
        env_var="SLAGATE_RUN_DIR",
        include_in_web_ui=False,
        help="Run folder (default reports/<UTC time>-<name>).",
    )
    parser.add_argument(
        "--services",
        metavar="NAME=URL[,NAME=URL]",
        default="",
        env_var=SERVICES_ENV,
        type=_checked_services,
        help="Base URLs the locustfile asks for by name, e.g. product=http://h:8001.",
    )
    parser.add_argument(
        "--slagate-flush-interval",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_FLUSH_INTERVAL_S,
        env_var="SLAGATE_FLUSH_INTERVAL",
        include_in_web_ui=False,
        help="Seconds between timeline flushes.",
    )
    parser.add_argument(
        "--slagate-failure-rows",
        metavar="N",
        type=int,
        default=DEFAULT_FAILURE_ROWS_PER_S,
        env_var="SLAGATE_FAILURE_ROWS",
        include_in_web_ui=False,
        help="Failure rows kept per second.",
    )
    parser.add_argument(
        "--slagate-max-endpoints",
        metavar="N",
        type=_at_least_one,
        default=DEFAULT_MAX_ENDPOINTS,
        env_var="SLAGATE_MAX_ENDPOINTS",
        include_in_web_ui=False,
        help="Distinct request names recorded; further new names are folded into one.",
    )


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _checked_services(text: str) -> str:
    try:
        _services(text)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from e
    return text


def _services(text: str) -> dict[str, str]:
    return parse_services(text.split(","), "--services")


def resolve_service(
    name: str,
    option: Mapping[str, str] | None,
    scenario: Mapping[str, str] | None,
    default: str | None = None,
) -> str:
    """A service's base URL: ``--services``, else the scenario's ``target.services``,
    else ``default``; a ``ConfigError`` naming the option when none has it."""
    for source in (option or {}, scenario or {}):
        if name in source:
            return source[name]
    if default is not None:
        return default.rstrip("/")
    raise ConfigError(
        f"no URL for service {name!r}: pass --services {name}=http://HOST:PORT "
        f"(or SLAGATE_SERVICES), or set target.services.{name} in the scenario"
    )
