"""Who may call the sandbox API, and as whom: the admin token of its kubeconfig, or a
ServiceAccount token.

Every sandbox API server has a random token (``new_token``), written only into the
kubeconfig (mode 0600), which is how kubectl, the official client, slagate's kube adapter
and the service proxy process get it. A request must carry ``Authorization: Bearer
<token>``; without it, or with another token, the server answers 401 with the Status body
kube-apiserver sends, and does nothing else. The token is compared in constant time.

What stays open: ``/version``, which a real cluster shows anonymous users too (the
``system:public-info-viewer`` role) and which tells nothing about the cluster's objects.
The sandbox serves no ``/healthz``, ``/livez`` or ``/readyz``.

The admin token authenticates as ``kubernetes-admin`` in group ``system:masters``, which
is cluster-admin as on kind or minikube: authorization never refuses it. A ServiceAccount
token (``serviceaccounts`` module: what a TokenRequest returns, what ``slagate sandbox
kubeconfig --service-account NS/NAME`` writes) authenticates as
``system:serviceaccount:NS:NAME`` in the groups upstream gives it, and is authorized by the
RBAC objects in the store (``authorizing``).

The token never goes on a command line (``ps`` shows those), into ``state.json``, a log, a
run folder or a report; ``repr`` of the authenticator hides it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from slagate.sandbox.apiserver.serviceaccounts import (
    UidLookup,
    read_token,
    service_account_user,
)

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


MASTERS = "system:masters"


@dataclass(frozen=True)
class UserInfo:
    """An authenticated identity: user name and groups, as RBAC subjects name them."""

    name: str
    groups: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return MASTERS in self.groups


ADMIN = UserInfo("kubernetes-admin", (MASTERS, "system:authenticated"))
ANONYMOUS = UserInfo("system:anonymous", ("system:unauthenticated",))


def service_account_info(namespace: str, name: str) -> UserInfo:
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")
    return UserInfo(service_account_user(namespace, name), (*groups, "system:authenticated"))


def new_token() -> str:
    """A fresh random bearer token for one sandbox API server."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class BearerAuthenticator:
    """Accepts the requests that carry ``token`` (admin) or a ServiceAccount token whose
    ServiceAccount ``uid_of`` still finds (or that ask a public path)."""

    def __init__(self, token: str, uid_of: UidLookup | None = None) -> None:
        if not token:
            raise ValueError("the sandbox API token must not be empty")
        self._token = token
        self._expected = token.encode()
        self._uid_of: UidLookup = uid_of or (lambda _namespace, _name: None)

    def authenticate(self, path: str, authorization: str | None) -> UserInfo | None:
        """Who sends a request for ``path`` with this ``Authorization`` header; None: 401."""
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip() if scheme.lower() == "bearer" else ""
        if credential and hmac.compare_digest(credential.encode(), self._expected):
            return ADMIN
        account = read_token(self._token, credential, self._uid_of) if credential else None
        if account is not None:
            return service_account_info(*account)
        return ANONYMOUS if path in PUBLIC_PATHS else None

    def allows(self, path: str, authorization: str | None) -> bool:
        """Whether a request for ``path`` with this ``Authorization`` header may go on."""
        return self.authenticate(path, authorization) is not None

    def __repr__(self) -> str:
        return "BearerAuthenticator(token=<hidden>)"
