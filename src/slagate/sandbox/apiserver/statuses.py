"""How the sandbox API answers a refusal: the Kubernetes ``Status`` body of an ``ApiError``.

The errors themselves (``ApiError`` and its Status reasons) are in ``slagate.errors``; the
store raises them too, so in-process callers (the controllers) catch the same
``Conflict`` or ``NotFound`` an HTTP client would see.
"""

from __future__ import annotations

from slagate.errors import ApiError, StatusDetails
from slagate.sandbox.objects.bodies import StatusBody


def status_body(error: ApiError) -> StatusBody:
    """What goes on the wire for ``error``."""
    return failure_status(error.code, error.reason, error.message, error.details)


def failure_status(code: int, reason: str, message: str, details: StatusDetails) -> StatusBody:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }


def success_status(details: StatusDetails, code: int = 200) -> StatusBody:
    """The body of a delete that removed an object whose type does not echo it back
    (200), or of an eviction that was carried out (201)."""
    body = failure_status(code, "", "", details)
    body["status"] = "Success"
    return body
