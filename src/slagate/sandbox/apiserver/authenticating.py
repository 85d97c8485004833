"""Who may call the sandbox API: whoever holds the bearer token of its kubeconfig.

Every sandbox API server has a random token (``new_token``), written only into the
kubeconfig (mode 0600), which is how kubectl, the official client, slagate's kube adapter
and the service proxy process get it. A request must carry ``Authorization: Bearer
<token>``; without it, or with another token, the server answers 401 with the Status body
kube-apiserver sends, and does nothing else. The token is compared in constant time.

What stays open: ``/version``, which a real cluster shows anonymous users too (the
``system:public-info-viewer`` role) and which tells nothing about the cluster's objects.
The sandbox serves no ``/healthz``, ``/livez`` or ``/readyz``.

The token never goes on a command line (``ps`` shows those), into ``state.json``, a log, a
run folder or a report; ``repr`` of the authenticator hides it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

TOKEN_BYTES = 32
"""Random bytes in a token (43 URL-safe characters)."""

PUBLIC_PATHS = frozenset({"/version"})
"""Paths served without a token, as real clusters serve them to anonymous users."""

UNAUTHORIZED_BODY: dict[str, Any] = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}
"""What kube-apiserver answers a request it cannot authenticate (no ``details``)."""


def new_token() -> str:
    """A fresh random bearer token for one sandbox API server."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class BearerAuthenticator:
    """Accepts the requests that carry ``token`` as a bearer token (or ask a public path)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the sandbox API token must not be empty")
        self._expected = token.encode()

    def allows(self, path: str, authorization: str | None) -> bool:
        """Whether a request for ``path`` with this ``Authorization`` header may go on."""
        if path in PUBLIC_PATHS:
            return True
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credential.strip().encode(), self._expected)

    def __repr__(self) -> str:
        return "BearerAuthenticator(token=<hidden>)"
