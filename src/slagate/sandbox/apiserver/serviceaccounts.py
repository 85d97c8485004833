"""ServiceAccount tokens: what ``POST serviceaccounts/NAME/token`` (a TokenRequest) hands
out and what the authenticator accepts besides the admin token.

Upstream issues signed JWTs bound to the ServiceAccount's uid. The sandbox keeps the two
properties a harness can observe, without key files: a token names its ServiceAccount,
and it stops working when that ServiceAccount is deleted (or deleted and created again,
which changes the uid). A token is ``sa1.<base64url "NS/NAME">.<HMAC-SHA256 hex>``, the
HMAC keyed with the server's admin token over ``NS/NAME/UID``: any server holding the same
admin token (a restart keeps it) verifies it, nothing needs storing, and no token can be
forged without the admin token. Expiry is not modelled (``expirationTimestamp`` is one
year ahead). Pure functions; the uid lookup is the caller's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slagate.sandbox.objects.bodies import RawObject, rfc3339

_PREFIX = "sa1"
TOKEN_LIFETIME = timedelta(days=365)

UidLookup = Callable[[str, str], str | None]
"""(namespace, name) -> the ServiceAccount's uid, or None if it does not exist."""


def service_account_user(namespace: str, name: str) -> str:
    """The user name a ServiceAccount authenticates as, upstream's spelling."""
    return f"system:serviceaccount:{namespace}:{name}"


def issue_token(key: str, namespace: str, name: str, uid: str) -> str:
    subject = base64.urlsafe_b64encode(f"{namespace}/{name}".encode()).decode().rstrip("=")
    return f"{_PREFIX}.{subject}.{_signature(key, namespace, name, uid)}"


def read_token(key: str, token: str, uid_of: UidLookup) -> tuple[str, str] | None:
    """(namespace, name) of the ServiceAccount ``token`` was issued for, if it still holds."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    try:
        subject = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    namespace, _, name = subject.partition("/")
    uid = uid_of(namespace, name) if namespace and name else None
    if uid is None:
        return None
    expected = _signature(key, namespace, name, uid)
    return (namespace, name) if hmac.compare_digest(expected, parts[2]) else None


def _signature(key: str, namespace: str, name: str, uid: str) -> str:
    message = f"{namespace}/{name}/{uid}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def token_request(body: Any, token: str, now: datetime) -> RawObject:
    """The TokenRequest answer: what was sent, with ``status.token`` filled in."""
    sent = body if isinstance(body, dict) else {}
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": rfc3339(now)},
        "spec": sent.get("spec") if isinstance(sent.get("spec"), dict) else {},
        "status": {"token": token, "expirationTimestamp": rfc3339(now + TOKEN_LIFETIME)},
    }
