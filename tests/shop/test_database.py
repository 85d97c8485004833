"""Database URLs: which database a service uses, and that no password is ever shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from slagate.errors import ConfigError
from slagate.shop.database import Backend, DatabaseUrl, redact


@pytest.mark.parametrize(
    ("text", "path"),
    [
        pytest.param("sqlite:///shop.db", Path("shop.db"), id="relative"),
        pytest.param("sqlite:////var/data/shop.db", Path("/var/data/shop.db"), id="absolute"),
        pytest.param("SQLite:///a/b.db", Path("a/b.db"), id="scheme-any-case"),
    ],
)
def test_sqlite_urls_name_a_file(text: str, path: Path) -> None:
    url = DatabaseUrl.parse(text)

    assert (url.backend, url.path) == (Backend.SQLITE, path)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgres_urls_are_kept_whole(scheme: str) -> None:
    text = f"{scheme}://shop:s3cret@db:5432/shop?sslmode=require"

    url = DatabaseUrl.parse(text)

    assert (url.backend, url.target) == (Backend.POSTGRES, text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("mysql://u:hunter2@h/d", id="other-database"),
        pytest.param("shop.db", id="a-path"),
        pytest.param("sqlite://", id="sqlite-without-path"),
        pytest.param("sqlite:///", id="sqlite-empty-path"),
        pytest.param("", id="empty"),
    ],
)
def test_unsupported_urls_are_refused_saying_what_works(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DatabaseUrl.parse(text)

    assert "use postgresql://USER:PASSWORD@HOST:PORT/DBNAME, or sqlite:///PATH" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param(
            "postgresql://shop:s3cret@db:5432/shop",
            "postgresql://shop:***@db:5432/shop",
            id="user-info",
        ),
        pytest.param(
            "postgresql://shop:p%40ss@db1,db2/shop?password=s3cret&sslmode=require",
            "postgresql://shop:***@db1,db2/shop?password=***&sslmode=require",
            id="several-hosts-and-parameter",
        ),
        pytest.param("postgresql://db/shop", "postgresql://db/shop", id="no-password"),
    ],
)
def test_the_password_is_never_shown(text: str, shown: str) -> None:
    url = DatabaseUrl.parse(text)

    assert redact(text) == shown
    assert str(url) == shown
    assert "s3cret" not in repr(url)
    assert "p%40ss" not in repr(url)
