from __future__ import annotations

import httpx
import pytest

from slagate.errors import PreflightError
from slagate.target.reaching import check_reachable
from tests.fakes import free_port


def test_any_http_answer_is_reachable() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    check_reachable({"host": "http://shop.test"}, "/", 1.0, transport=transport)


def test_refused_port_names_every_unreachable_url() -> None:
    port = free_port()
    with pytest.raises(PreflightError) as info:
        check_reachable(
            {"host": f"http://127.0.0.1:{port}", "service product": f"http://127.0.0.1:{port}"},
            "/",
            1.0,
        )
    text = str(info.value)
    assert f"host http://127.0.0.1:{port}: connection refused" in text
    assert f"service product http://127.0.0.1:{port}: connection refused" in text
    assert "no load was sent" in text


def test_unreachable_urls_are_named_without_user_info() -> None:
    url = f"http://load:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(PreflightError) as info:
        check_reachable({"host": url}, "/", 1.0)
    assert f"host {url.replace('load:s3cret@', '')}: connection refused" in str(info.value)
    assert "s3cret" not in str(info.value)
