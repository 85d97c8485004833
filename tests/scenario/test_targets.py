"""Target URLs given on a command line: ``NAME=URL`` options, one parser for all."""

from __future__ import annotations

import pytest

from slagate.errors import ConfigError
from slagate.scenario import format_services, parse_services, shown_url


def test_services_are_parsed_without_trailing_slashes() -> None:
    text = "product=http://127.0.0.1:8001/, order = https://shop.example:8443"
    assert parse_services(text.split(","), "--services") == {
        "product": "http://127.0.0.1:8001",
        "order": "https://shop.example:8443",
    }
    assert parse_services([""], "--services") == {}
    assert format_services({"a": "http://h:1", "b": "http://h:2"}) == "a=http://h:1,b=http://h:2"


@pytest.mark.parametrize(
    "text", ["product", "product=", "=http://h:1", "product=ftp://h", "product=127.0.0.1:8001"]
)
def test_malformed_services_name_the_option(text: str) -> None:
    with pytest.raises(ConfigError, match=r"--services .*expected NAME=URL"):
        parse_services(text.split(","), "--services")


def test_cli_values_are_parsed_one_by_one() -> None:
    assert parse_services(["product=http://h:1/", "order=http://h:2"], "--service") == {
        "product": "http://h:1",
        "order": "http://h:2",
    }


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("https://u:s3cret@h:8443/api?token=s3cret#x", "https://h:8443/api", id="full"),
        pytest.param("http://h:1", "http://h:1", id="plain"),
        pytest.param("u:s3cret@h:1/x", "//h:1/x", id="no-scheme"),
        pytest.param("http://[::1", "", id="no-url"),
    ],
)
def test_a_url_is_shown_without_user_info_or_query(url: str, shown: str) -> None:
    assert shown_url(url) == shown


@pytest.mark.parametrize(
    "text", ["u:s3cret@h", "p=u:s3cret@h", "p=ftp://u:s3cret@h", "=http://u:s3cret@h"]
)
def test_a_malformed_service_is_quoted_without_user_info(text: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_services([text], "--service")
    assert "s3cret" not in str(e.value)
