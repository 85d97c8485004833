"""Where the server-side metrics come from: the ``prometheus:`` block of a scenario.

Any Prometheus with the HTTP API: port-forwarded, an in-cluster Service, or a managed one
with a token. ``--prometheus-url`` wins over ``url``; with ``--sandbox`` and neither, the
sandbox's own Prometheus is used. Secrets (header values, the token, user info in the URL)
are read when queries are sent and never written to run.json, summary.json, logs or the
report: the settings serialize without them (header values as ``<redacted>``), so the
scenario recorded in run.json holds none. Judging a recorded run again with a fetch
(``slagate check --prometheus-url``) therefore needs ``--scenario FILE`` for headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_serializer, field_validator

from slagate.scenario.base import Duration, _Model
from slagate.scenario.targets import _check_url, shown_url

REDACTED = "<redacted>"


LAG_STEPS = 3
"""The default ``lag``, in steps: an event is scraped up to one interval later, a series it
creates is shown from its second scrape (the sandbox's proxy shows a new series at 0
once), and a range query's points fall on whole steps."""


class PrometheusSettings(_Model):
    url: str | None = Field(default=None, description="Base URL, e.g. http://127.0.0.1:9090.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Sent with every query (e.g. X-Scope-OrgID)."
    )
    bearer_token_file: Path | None = Field(
        default=None, description="A file holding a bearer token (read at each run)."
    )
    ca_file: Path | None = Field(default=None, description="CA bundle to verify TLS with.")
    insecure_skip_verify: bool = False
    step: Duration | None = Field(
        default=None,
        description="Range-query resolution; default 1 s on the sandbox (1 s scrapes), else 15 s.",
    )
    range: Duration | None = Field(
        default=None,
        description="The {range} of rate() in queries; default 5 s on the sandbox, else 1 m.",
    )
    lag: Duration | None = Field(
        default=None,
        description=(
            "How long after an event Prometheus may show it: a scrape interval, another for "
            "a series the event creates (a status code first seen), and a step. PromQL SLAs "
            "look this far past their window's end, and a run waits this long before "
            "fetching. Default 3 steps; set it when scrapes are further apart than the step."
        ),
    )
    timeout: Duration = Field(default=10.0, description="Seconds a query may take.")
    cross_check_tolerance: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.01,
        description=(
            "How far the server-side error ratio of an error-ratio preset may stray from the "
            "client side's (Locust's) in the same window before the report flags it (0.01: "
            "one percentage point)."
        ),
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v)

    @field_serializer("headers")
    def _headers_without_values(self, headers: dict[str, str]) -> dict[str, str]:
        """A resolved scenario is recorded in run.json: header values may be credentials."""
        return dict.fromkeys(headers, REDACTED)

    @field_serializer("url")
    def _shown_url(self, url: str | None) -> str | None:
        return None if url is None else shown_url(url)
