"""What the load child is given: its command line and the target's URLs in its environment."""

from __future__ import annotations

import pytest

from slagate.errors import ConfigError
from slagate.load.launching import target_environment


def test_a_service_url_with_a_comma_is_refused_without_its_password() -> None:
    with pytest.raises(ConfigError) as refused:
        target_environment("http://127.0.0.1:1", {"product": "http://u:pa,ss@127.0.0.1:2/"})
    assert "service product: the URL http://127.0.0.1:2/ contains a comma" in str(refused.value)
    assert "pa,ss" not in str(refused.value) and "u:" not in str(refused.value)
    assert target_environment("http://h", {"a": "http://x", "b": "http://y"}) == {
        "LOCUST_HOST": "http://h",
        "SLAGATE_SERVICES": "a=http://x,b=http://y",
    }
