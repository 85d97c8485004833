from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from slagate.shop.cli import shop
from tests.fakes import free_port


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(shop, list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("service", ["product", "order"])
def test_help_lists_every_option(service: str) -> None:
    code, output = invoke(service, "--help")

    assert code == 0
    for option in [
        "--port",
        "--db",
        "--startup-delay",
        "--cpu-ms",
        "--error-ratio",
        "--on-sigterm",
        "--database-url",
        "SLAGATE_SHOP_DATABASE_URL",
    ]:
        assert option in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--port", "70000"], "70000 is not in the range", id="port-too-big"),
        pytest.param(["--port", "http"], "'http' is not a valid integer", id="port-not-a-number"),
        pytest.param([], "Missing option '--port'", id="port-missing"),
        pytest.param(["--port", "1", "--cpu-ms", "-1"], "--cpu-ms", id="negative-cpu"),
        pytest.param(["--port", "1", "--on-sigterm", "crash"], "'crash' is not one of", id="mode"),
        pytest.param(["--port", "1", "--error-ratio", "1.5"], "--error-ratio", id="ratio-above-1"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    code, output = invoke("product", *args)

    assert code == 2
    assert message in output
    assert "Traceback" not in output


def test_db_in_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    code, output = invoke("product", "--port", "0", "--db", str(tmp_path / "nope" / "x.db"))

    assert code == 2
    assert "Invalid value for --db" in output
    assert "does not exist" in output


def test_db_that_is_not_a_database_is_a_usage_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.db"
    bogus.write_bytes(b"this is not sqlite" * 100)

    code, output = invoke("product", "--port", "0", "--db", str(bogus))

    assert code == 2
    assert f"cannot initialise database {bogus}" in output


def test_taken_port_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        code, output = invoke("product", "--port", str(port), "--db", str(tmp_path / "x.db"))

    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in output


def test_order_needs_an_http_product_url(tmp_path: Path) -> None:
    code, output = invoke(
        "order", "--port", "0", "--db", str(tmp_path / "x.db"), "--product-url", "localhost:1"
    )

    assert code == 2
    assert "product URL must start with http://" in output


def test_db_and_database_url_together_are_a_usage_error(tmp_path: Path) -> None:
    code, output = invoke(
        "product", "--port", "0", "--db", str(tmp_path / "x.db"),
        "--database-url", "postgresql://db/shop",
    )  # fmt: skip

    assert code == 2
    assert "--db and --database-url both name a database; give one" in output


def test_db_on_the_command_line_beats_the_url_in_the_environment(tmp_path: Path) -> None:
    env = {"SLAGATE_SHOP_DATABASE_URL": "postgresql://shop:hunter2@127.0.0.1:1/shop"}

    code, output = invoke(
        "product", "--port", "0", "--db", str(tmp_path / "nope" / "x.db"), env=env
    )

    assert code == 2
    assert "Invalid value for --db: directory" in output  # the SQLite file was checked
    assert "hunter2" not in output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "mysql://u:hunter2@db/shop", "is not supported: use postgresql://", id="mysql"
        ),
        pytest.param("sqlite:///no/such/dir/x.db", "Invalid value for --database-url", id="dir"),
    ],
)
def test_an_unusable_database_url_is_a_usage_error(url: str, message: str) -> None:
    code, output = invoke("product", "--port", "0", "--database-url", url)

    assert code == 2
    assert message in output
    assert "hunter2" not in output
    assert "Traceback" not in output


def test_an_unreachable_postgres_server_from_the_environment_is_a_usage_error() -> None:
    port = free_port()
    env = {"SLAGATE_SHOP_DATABASE_URL": f"postgresql://shop:hunter2@127.0.0.1:{port}/shop"}

    code, output = invoke("product", "--port", "0", env=env)

    assert code == 2
    assert f"cannot use database postgresql://shop:***@127.0.0.1:{port}/shop: " in output
    assert "hunter2" not in output
    assert "Traceback" not in output
