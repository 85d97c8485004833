"""Plain HTTP to a sandbox API server, as a client without the typed library would speak it:
over TLS trusting the server's own authority, with its bearer token unless told otherwise."""

from __future__ import annotations

from typing import Any

import httpx

from slagate.sandbox.apiserver import ApiServer


def bearer(server: ApiServer) -> dict[str, str]:
    """The header that lets a request in."""
    return {"Authorization": f"Bearer {server.token}"}


def raw_client(
    server: ApiServer, headers: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Client:
    """An ``httpx.Client`` on ``server.url``; ``headers`` None sends the token, ``{}`` none."""
    return httpx.Client(
        base_url=server.url,
        headers=bearer(server) if headers is None else headers,
        verify=server.certificate.client_context(),
        trust_env=False,
        **kwargs,
    )
