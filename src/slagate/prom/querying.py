"""Queries to one Prometheus, through prometheus-api-client, with errors that say what to do.

``PrometheusQuerier`` is built from the scenario's ``prometheus:`` settings and a URL.
Headers and the bearer token are sent with every request and kept nowhere else. A
connection problem is a ``PrometheusError`` naming the URL; a query Prometheus refuses is
a ``QueryRejected`` with the query and Prometheus' own message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from slagate.errors import ConfigError, PrometheusError, QueryRejected
from slagate.scenario import PrometheusSettings, shown_url

RETRIES = 2
"""Tries after the first on a refused connection or a 502/503/504 (the client's default, 5
with exponential back-off, would make an unreachable Prometheus take half a minute)."""


@dataclass(frozen=True)
class Series:
    """One series of a query's result: its labels and ``(t_ms, value)`` samples."""

    labels: Mapping[str, str]
    samples: tuple[tuple[int, float], ...]


class MetricsSource(Protocol):
    def range_query(self, query: str, start_s: float, end_s: float, step_s: float) -> list[Series]:
        """The result of ``query`` from ``start_s`` to ``end_s`` (epoch seconds)."""


class PrometheusQuerier:
    """A Prometheus at ``url`` (a ``MetricsSource``)."""

    def __init__(self, url: str, settings: PrometheusSettings) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = settings.timeout
        self._client = PrometheusConnect(
            url=self.url,
            headers=_headers(settings),
            disable_ssl=settings.insecure_skip_verify,
            session=_session(settings),
            retry=Retry(total=RETRIES, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
            timeout=math.ceil(settings.timeout),
        )

    @property
    def shown_url(self) -> str:
        """The URL without user info, for messages and run.json."""
        return shown_url(self.url)

    def range_query(self, query: str, start_s: float, end_s: float, step_s: float) -> list[Series]:
        start, end = (datetime.fromtimestamp(t, UTC) for t in (start_s, end_s))
        result = self._call(
            query, self._client.custom_query_range, query, start, end, f"{step_s:g}s"
        )
        return [_series(item) for item in result]

    def instant_query(self, query: str) -> list[Series]:
        """``query`` evaluated now (a preflight check that Prometheus accepts it)."""
        return [_series(item) for item in self._call(query, self._client.custom_query, query)]

    def _call(self, query: str, method: Any, *args: Any) -> list[dict[str, Any]]:
        try:
            result: list[dict[str, Any]] = method(*args)
        except requests.RequestException as e:
            raise PrometheusError(
                f"cannot reach Prometheus at {self.shown_url}: {_reason(e)}; check the URL "
                "(--prometheus-url or prometheus.url) and that it is up"
            ) from e
        except PrometheusApiClientException as e:
            raise _refusal(self.shown_url, query, e) from e
        except ValueError as e:  # an answer that is not Prometheus' JSON
            raise PrometheusError(f"{self.shown_url} did not answer like Prometheus: {e}") from e
        return result


def _headers(settings: PrometheusSettings) -> dict[str, str]:
    """The headers sent with every query. A malformed one is a ``ConfigError`` naming where
    it came from but not its value: requests' own error quotes the value, a credential."""
    headers = {**settings.headers, **_bearer(settings.bearer_token_file)}
    for name, value in headers.items():
        try:
            requests.utils.check_header_validity((name, value))
            value.encode("latin-1")  # what http.client sends; it would fail mid-request
        except (requests.exceptions.InvalidHeader, UnicodeEncodeError):
            token = name == "Authorization" and settings.bearer_token_file is not None
            where = "prometheus.bearer_token_file" if token else f"prometheus.headers.{name}"
            raise ConfigError(
                f"{where}: not a valid HTTP header (leading whitespace, a line break or a "
                "character outside Latin-1); correct it (its value is not shown: a secret)"
            ) from None  # the cause quotes the value
    return headers


def _bearer(token_file: Path | None) -> dict[str, str]:
    if token_file is None:
        return {}
    try:
        token = token_file.read_text().strip()
    except OSError as e:
        raise ConfigError(
            f"prometheus.bearer_token_file {token_file}: cannot read it ({e.strerror or e})"
        ) from e
    return {"Authorization": f"Bearer {token}"}


def _session(settings: PrometheusSettings) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between slagate and Prometheus
    if settings.ca_file is not None:
        if not settings.ca_file.is_file():
            raise ConfigError(f"prometheus.ca_file {settings.ca_file}: no such file")
        session.verify = str(settings.ca_file)
    if settings.insecure_skip_verify:
        session.verify = False
    return session


def _series(item: Mapping[str, Any]) -> Series:
    labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
    points: Sequence[Any] = item.get("values") or ([item["value"]] if "value" in item else [])
    samples = tuple((round(float(t) * 1000), float(v)) for t, v in points)
    return Series(labels, samples)


def _refusal(url: str, query: str, error: PrometheusApiClientException) -> PrometheusError:
    """Prometheus' own reason from the error body (``{"error": ...}``), with the query."""
    text = str(error)
    status, _, body = text.partition(" (")
    message = _error_message(body) or text[:300]
    if "400" in status or "422" in status:
        return QueryRejected(f"Prometheus at {url} rejected the query {query!r}: {message}")
    return PrometheusError(f"Prometheus at {url} failed the query {query!r}: {message}")


def _error_message(body: str) -> str | None:
    raw = body.rstrip(")").strip()
    if raw.startswith(("b'", 'b"')):
        raw = raw[2:-1].encode().decode("unicode_escape")
    try:
        found = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return None
    return str(found) if found else None


def _reason(error: requests.RequestException) -> str:
    text = str(error)
    if "Connection refused" in text or "NewConnectionError" in text:
        return "connection refused"
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    return text[:200]
