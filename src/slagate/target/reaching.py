"""Preflight: before any load is sent, every target URL must answer HTTP."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from slagate.errors import PreflightError
from slagate.scenario import shown_url


def check_reachable(
    urls: Mapping[str, str],
    path: str,
    timeout_s: float,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Raise ``PreflightError`` naming every URL that gave no HTTP answer.

    Any HTTP status counts as reachable (a 404 on ``/`` still proves the service is up);
    only connection errors and timeouts fail. ``urls`` maps a label (``host``,
    ``service product``) to a base URL; the error names each without user info.
    """
    problems = []
    with httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False) as client:
        for label, base in urls.items():
            problem = _probe(client, base.rstrip("/") + path)
            if problem:
                problems.append(f"{label} {shown_url(base)}: {problem}")
    if problems:
        raise PreflightError(
            "target unreachable, no load was sent:\n"
            + "\n".join(f"  {p}" for p in problems)
            + "\nstart the service or pass the right URL (--host, --service NAME=URL)"
        )


def _probe(client: httpx.Client, url: str) -> str | None:
    try:
        client.get(url)
    except httpx.TimeoutException:
        return f"no answer within {client.timeout.connect} s"
    except httpx.HTTPError as e:
        return _reason(e)
    except httpx.InvalidURL as e:  # not an HTTPError: a URL that slipped past the checks
        return f"not a valid URL: {e}"
    return None


def _reason(e: httpx.HTTPError) -> str:
    text = str(e) or type(e).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text[:200]
