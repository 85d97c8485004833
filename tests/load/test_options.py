from __future__ import annotations

import argparse
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from slagate.errors import ConfigError
from slagate.load.options import PluginOptions, add_options, resolve_service


class RecordingParser:
    """Stands in for Locust's parser: keeps what ``add_argument`` was given."""

    def __init__(self) -> None:
        self.arguments: dict[str, dict[str, Any]] = {}

    def add_argument(self, name: str, **kwargs: Any) -> None:
        self.arguments[name] = kwargs


def test_options_with_env_vars_and_web_ui_flags() -> None:
    parser = RecordingParser()
    add_options(parser)
    args = parser.arguments
    assert list(args) == [
        "--scenario",
        "--run-dir",
        "--services",
        "--slagate-flush-interval",
        "--slagate-failure-rows",
        "--slagate-max-endpoints",
    ]
    assert args["--services"]["env_var"] == "SLAGATE_SERVICES"
    assert args["--scenario"]["include_in_web_ui"] is False
    assert "include_in_web_ui" not in args["--services"]  # shown in the web UI


def test_a_malformed_services_option_names_the_option_and_the_value() -> None:
    with pytest.raises(ConfigError, match="--services 'product=ftp://h'"):
        PluginOptions.from_namespace(Namespace(services="product=ftp://h"))


def test_the_option_wins_over_the_scenario_then_the_default() -> None:
    option = {"product": "http://opt:1"}
    scenario = {"product": "http://scn:1", "stock": "http://scn:2"}
    assert resolve_service("product", option, scenario) == "http://opt:1"
    assert resolve_service("stock", option, scenario) == "http://scn:2"
    assert resolve_service("gateway", None, None, default="http://host:9/") == "http://host:9"


def test_an_unknown_service_says_which_option_to_set() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_service("product", {}, {})
    assert "--services product=http://HOST:PORT" in str(err.value)
    assert "target.services.product" in str(err.value)


def test_plugin_options_from_locust_namespace() -> None:
    ns = Namespace(
        scenario="s.yaml",
        run_dir="reports/x",
        services="product=http://h:1",
        slagate_flush_interval=0.5,
        slagate_failure_rows=7,
    )
    assert PluginOptions.from_namespace(ns) == PluginOptions(
        Path("s.yaml"), Path("reports/x"), {"product": "http://h:1"}, 0.5, 7
    )


def test_plugin_options_default_without_parsed_options() -> None:
    assert PluginOptions.from_namespace(None) == PluginOptions(services={})


@pytest.mark.parametrize("text", ["0", "-3", "many"])
def test_max_endpoints_must_be_a_positive_whole_number(text: str) -> None:
    parser = RecordingParser()
    add_options(parser)
    check = parser.arguments["--slagate-max-endpoints"]["type"]
    with pytest.raises(argparse.ArgumentTypeError, match=f"at least 1, got {text!r}"):
        check(text)
    assert check("20") == 20
