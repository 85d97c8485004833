"""Requests and answers as the API layer sees them, free of any HTTP library."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slagate.errors import ApiError, BadRequest
from slagate.sandbox.apiserver.authenticating import ADMIN, UserInfo
from slagate.sandbox.apiserver.statuses import status_body
from slagate.sandbox.apiserver.watching import Watcher
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import ResourceType


@dataclass(frozen=True)
class Request:
    """``headers`` keys are lower case; ``query`` keeps the last value of each name;
    ``user`` is who the token authenticated (in-process callers act as the admin)."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    user: UserInfo = ADMIN

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1")

    def integer(self, name: str) -> int | None:
        """An integer query parameter; ``BadRequest`` if present but not an integer."""
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        try:
            return int(raw)
        except ValueError as error:
            raise BadRequest(f"{name} must be an integer, got {raw!r}") from error

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class Response:
    """A complete JSON answer."""

    status: int
    body: Any

    @classmethod
    def from_error(cls, error: ApiError) -> Response:
        return cls(error.code, status_body(error))


Render = Callable[[RawObject], RawObject]


def as_is(obj: RawObject) -> RawObject:
    return obj


@dataclass(frozen=True)
class WatchPlan:
    """A watch to stream: either a ``watcher`` or, for a too-old resourceVersion, the
    ``error`` to send as the single ERROR event (upstream answers 200, then the event).
    ``render`` turns each object into what goes on the wire (a Table row for kubectl)."""

    resource: ResourceType
    watcher: Watcher | None
    timeout_s: float | None
    bookmarks: bool
    error: ApiError | None = None
    render: Render = as_is
