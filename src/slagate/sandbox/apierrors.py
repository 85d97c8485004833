"""Errors the sandbox API answers with, each one a Kubernetes ``Status``.

The store raises them too, so in-process callers (the controllers) catch the same
``Conflict`` or ``NotFound`` an HTTP client would see::

    SandboxError                 (slagate.errors)
    └── ApiError                 any refusal; carries the HTTP code and Status reason
        ├── BadRequest           400 malformed JSON, patch, selector or parameter
        ├── Forbidden            403
        ├── NotFound             404 unknown resource type or object
        ├── MethodNotAllowed     405 verb not served on this path
        ├── Conflict             409 stale resourceVersion
        ├── AlreadyExists        409 create of an existing name
        ├── Expired              410 watch from a resourceVersion the buffer no longer holds
        ├── UnsupportedMediaType 415 unknown PATCH content type (server-side apply)
        ├── Invalid              422 manifest rejected by validation; names the fields
        ├── PatchFailed          422 a well-formed patch that cannot apply (failed test)
        └── InternalError        500 a bug in the sandbox, reported instead of crashing
"""

from __future__ import annotations

from dataclasses import dataclass

from slagate.errors import SandboxError
from slagate.sandbox.bodies import StatusBody, StatusCause, StatusDetails


@dataclass(frozen=True)
class FieldCause:
    """One validation failure: the JSON path of the field, and what is wrong with it."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"

    def to_json(self) -> StatusCause:
        return {"reason": self.reason, "message": self.message, "field": self.field}


class ApiError(SandboxError):
    """A request the sandbox API refuses; ``status_body()`` is what goes on the wire."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, details: StatusDetails | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: StatusDetails = details or {}

    def status_body(self) -> StatusBody:
        return failure_status(self.code, self.reason, self.message, self.details)


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class Conflict(ApiError):
    code = 409
    reason = "Conflict"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"


class Expired(ApiError):
    code = 410
    reason = "Expired"


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(ApiError):
    """Validation failed; ``causes`` name each offending field (``spec.selector``)."""

    code = 422
    reason = "Invalid"

    def __init__(self, kind: str, name: str, causes: list[FieldCause], group: str = "") -> None:
        qualified = f"{kind}.{group}" if group else kind
        summary = ", ".join(f"{c.field}: {c.message}" for c in causes)
        if len(causes) > 1:
            summary = f"[{summary}]"
        details: StatusDetails = {"name": name, "group": group, "kind": kind}
        details["causes"] = [c.to_json() for c in causes]
        super().__init__(f'{qualified} "{name}" is invalid: {summary}', details)
        self.causes = causes


class PatchFailed(ApiError):
    """A well-formed patch whose operation cannot apply (missing path, failed test)."""

    code = 422
    reason = "Invalid"


class InternalError(ApiError):
    code = 500
    reason = "InternalError"


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


def success_status(details: StatusDetails) -> StatusBody:
    """The body of a delete that removed an object whose type does not echo it back."""
    body = failure_status(200, "", "", details)
    body["status"] = "Success"
    return body
