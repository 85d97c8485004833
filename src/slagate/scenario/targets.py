"""Where the load goes: URLs and the Kubernetes side of the target."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, PlainSerializer, field_validator

from slagate.errors import ConfigError
from slagate.scenario.base import Duration, _Model

# --- target ------------------------------------------------------------------------------


class KubeTarget(_Model):
    """The cluster side of the target: what to watch and where actions may mutate."""

    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")] = "default"
    service: str | None = Field(
        default=None,
        description="Service whose load-balancer address becomes the host when no host is given.",
    )
    services: dict[str, str] = Field(
        default_factory=dict,
        description="Locustfile service name -> Kubernetes Service name (URLs resolved likewise).",
    )
    allow_mutations_in: list[str] = Field(
        default_factory=list,
        description="Namespaces where scenario actions may change the cluster (safety).",
    )


_URL = re.compile(r"^https?://[^/\s]+")


def _check_url(url: str) -> str:
    """The one rule for a target URL: http(s) with a host, no blank or control character,
    a port that is a number in range; no trailing slash kept. What passes here is a URL
    the HTTP clients accept: a bad one is refused with its field, not mid-run."""
    if not _URL.match(url) or any(c.isspace() or not c.isprintable() for c in url):
        raise ValueError(f"expected an http:// or https:// URL, got {shown_url(url)!r}")
    try:
        urlsplit(url).port  # noqa: B018 (parsing is the check)
    except ValueError as e:
        raise ValueError(f"{shown_url(url)!r} is no valid URL: {e}") from e
    return url.rstrip("/")


def parse_url(value: str, option: str) -> str:
    """A URL given as a command-line option, checked like the scenario's; a
    ``ConfigError`` names ``option`` and the value (without user info)."""
    try:
        return _check_url(value)
    except ValueError as e:
        raise ConfigError(f"{option}: {e}; such as http://127.0.0.1:8002") from e


def shown_url(url: str) -> str:
    """``url`` as run.json, messages and reports record it: no user info, no query (either
    may hold a secret); empty for text that is no URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if not parts.netloc and "@" in url.partition("/")[0]:  # user:password@host, no scheme
        return shown_url("//" + url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def shown_urls(urls: Mapping[str, str]) -> dict[str, str]:
    """``{name: url}`` with every URL as ``shown_url`` shows it."""
    return {name: shown_url(url) for name, url in urls.items()}


ShownUrl = Annotated[str, PlainSerializer(shown_url, return_type=str)]
"""A URL field that is serialized (run.json, a resolved scenario) as ``shown_url``: its
user info is a password Locust sends as basic auth, never recorded."""
ShownUrls = Annotated[dict[str, str], PlainSerializer(shown_urls, return_type=dict[str, str])]
"""``{name: URL}`` serialized as ``shown_urls``."""


class Target(_Model):
    """Where the load goes. ``host`` is Locust's ``--host``; ``services`` are further base
    URLs the locustfile asks for by name (e.g. the product service of the shop).

    User info in these URLs (``http://user:password@host``: Locust sends it as basic
    auth) is used by the load but never recorded: the target serializes its URLs as
    ``shown_url`` does, so the scenario resolved into run.json holds no password."""

    host: ShownUrl | None = None
    kubernetes: KubeTarget | None = None
    services: ShownUrls = Field(default_factory=dict)
    preflight_path: str = "/"
    preflight_timeout: Duration = 5.0

    @field_validator("host")
    @classmethod
    def _host_is_url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v)

    @field_validator("services")
    @classmethod
    def _services_are_urls(cls, v: dict[str, str]) -> dict[str, str]:
        return {name: _check_url(url) for name, url in v.items()}


def parse_services(items: Iterable[str], option: str) -> dict[str, str]:
    """``["product=http://h:8001", ...]`` (a command-line option's values) -> ``{name: url}``.

    A ``ConfigError`` names ``option`` and the offending value."""
    services: dict[str, str] = {}
    for item in filter(None, (i.strip() for i in items)):
        name, sep, url = item.partition("=")
        problem = _service_problem(name.strip(), sep, url.strip())
        if problem is not None:
            shown = f"{name}={shown_url(url)}" if sep else shown_url(item)
            raise ConfigError(
                f"{option} {shown!r}: {problem}; expected NAME=URL such as "
                "product=http://127.0.0.1:8001"
            )
        services[name.strip()] = _check_url(url.strip())
    return services


def _service_problem(name: str, sep: str, url: str) -> str | None:
    if not sep:
        return "no '=' between the name and the URL"
    if not name:
        return "no name before '='"
    try:
        _check_url(url)
    except ValueError as e:
        return str(e)
    return None


def format_services(services: Mapping[str, str]) -> str:
    """The comma-separated ``NAME=URL`` text of Locust's ``--services`` option."""
    return ",".join(f"{name}={url}" for name, url in services.items())
