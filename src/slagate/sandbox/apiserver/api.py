"""The sandbox API as one callable: ``Api.handle(Request) -> Response | WatchPlan``.

Routes a request to discovery, access review, the sandbox controls or a resource
handler, counts it, and turns every error into a Status body: a malformed request never
escapes as an exception. The HTTP server (``serving``) only moves bytes.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from slagate.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    UnsupportedMediaType,
)
from slagate.sandbox.apiserver.access import AccessPolicy, review
from slagate.sandbox.apiserver.authorizing import Attributes, authorize, forbidden, read_policy
from slagate.sandbox.apiserver.discovery import (
    core_versions,
    group_list,
    resource_list,
    version_info,
)
from slagate.sandbox.apiserver.evicting import evict
from slagate.sandbox.apiserver.messages import Request, Response, WatchPlan
from slagate.sandbox.apiserver.openapi import openapi_document, openapi_root
from slagate.sandbox.apiserver.patching import parse_json
from slagate.sandbox.apiserver.resthandlers import handle_resource, verb_of
from slagate.sandbox.apiserver.routing import (
    AccessReviewRoute,
    ControlRoute,
    DiscoveryRoute,
    OpenApiRoute,
    ResourceRoute,
    Route,
    not_found,
    parse_path,
)
from slagate.sandbox.apiserver.serviceaccounts import issue_token, token_request
from slagate.sandbox.apiserver.slowing import MAX_SLOW_S, Slowdown
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watching import Watcher
from slagate.sandbox.objects.bodies import metadata
from slagate.sandbox.objects.resources import CREATE_SUBRESOURCES, SERVICE_ACCOUNTS, ResourceType

logger = logging.getLogger(__name__)
_BINARY_MEDIA_TYPES = ("application/vnd.kubernetes.protobuf", "application/cbor")


class RequestCounter:
    """Requests per (resource label, verb): ``("deployments", "watch") -> 3``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, label: str, verb: str) -> None:
        with self._lock:
            self._counts[(label, verb)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class WatchRegistry:
    """The open HTTP watch streams, so a test can cut them all at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[Watcher] = set()

    def add(self, watcher: Watcher) -> None:
        with self._lock:
            self._open.add(watcher)

    def discard(self, watcher: Watcher) -> None:
        with self._lock:
            self._open.discard(watcher)

    def close_all(self, reason: str) -> int:
        with self._lock:
            watchers, self._open = list(self._open), set()
        for watcher in watchers:
            watcher.close(reason)
        return len(watchers)

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)


class Api:
    """``signing_key``: what ServiceAccount tokens are derived from (the admin token)."""

    def __init__(self, store: ObjectStore, access: AccessPolicy, signing_key: str) -> None:
        self.store = store
        self.access = access
        self._signing_key = signing_key
        self.requests = RequestCounter()
        self.watches = WatchRegistry()
        self.slowdown = Slowdown()

    def handle(self, request: Request) -> Response | WatchPlan:
        """Answer ``request``; never raises."""
        try:
            _require_json_body(request)
            return self._route(parse_path(request.path, self.store.served_types()), request)
        except ApiError as error:
            return Response.from_error(error)
        except Exception as error:  # a sandbox bug must answer 500, not kill the thread
            logger.exception("sandbox API failed on %s %s", request.method, request.path)
            return Response.from_error(InternalError(f"sandbox API error: {error!r}"))

    def _route(self, route: Route, request: Request) -> Response | WatchPlan:
        if isinstance(route, ControlRoute):
            if not request.user.is_admin:
                raise Forbidden(f"sandbox controls are for the admin, not {request.user.name}")
            return self._control(route.action, request)
        self.slowdown.hold()
        if isinstance(route, ResourceRoute):
            verb = verb_of(route, request)
            self.requests.add(route.label, verb)
            self._authorize(route, request, verb)
            if route.subresource in CREATE_SUBRESOURCES:
                return self._create_subresource(route, request)
            return self._resource(route, request)
        if isinstance(route, AccessReviewRoute):
            self.requests.add("selfsubjectaccessreviews", "create")
            _require_method(request, "POST")
            answer = review(
                self.access, parse_json(request.body), request.user, read_policy(self.store)
            )
            return Response(201, answer)
        self.requests.add("discovery", "get")
        _require_method(request, "GET")
        types = self.store.served_types()
        if isinstance(route, OpenApiRoute):
            return Response(200, _openapi(route, types))
        return Response(200, _discovery(route, request.headers.get("host", "127.0.0.1"), types))

    def _resource(self, route: ResourceRoute, request: Request) -> Response | WatchPlan:
        outcome = handle_resource(self.store, route, request)
        if isinstance(outcome, WatchPlan) and outcome.watcher is not None:
            self.watches.add(outcome.watcher)
        return outcome

    def _authorize(self, route: ResourceRoute, request: Request, verb: str) -> None:
        """RBAC for identities other than the admin: 403 Forbidden as upstream words it."""
        if request.user.is_admin:
            return
        resource = route.resource
        attributes = Attributes(
            verb=verb,
            resource=resource.plural,
            group=resource.group,
            subresource=route.subresource,
            name=route.name or "",
            namespace=route.namespace or "",
        )
        if not authorize(request.user, attributes, read_policy(self.store)).allowed:
            raise forbidden(request.user, attributes, resource.qualified_plural)

    def _create_subresource(self, route: ResourceRoute, request: Request) -> Response:
        _require_method(request, "POST")
        assert route.name is not None and route.namespace is not None, "routed with a name"
        body = parse_json(request.body) if request.body.strip() else {}
        if route.subresource == "eviction":
            return Response(201, evict(self.store, route.namespace, route.name, body))
        token = self.service_account_token(route.namespace, route.name)
        return Response(201, token_request(body, token, self.store.now()))

    def service_account_token(self, namespace: str, name: str) -> str:
        """A token for ServiceAccount ``namespace/name`` (``NotFound`` if it does not
        exist), valid while that ServiceAccount does."""
        account = self.store.get(SERVICE_ACCOUNTS, namespace, name)
        uid = str(metadata(account).get("uid", ""))
        return issue_token(self._signing_key, namespace, name, uid)

    def finish_watch(self, plan: WatchPlan) -> None:
        if plan.watcher is not None:
            self.watches.discard(plan.watcher)

    def _control(self, action: str, request: Request) -> Response:
        if action == "cut-watches":
            _require_method(request, "POST")
            reason = "cut-abrupt" if request.flag("abrupt") else "cut"
            return Response(200, {"cut": self.watches.close_all(reason)})
        if action == "requests":
            counts = [
                {"resource": label, "verb": verb, "count": count}
                for (label, verb), count in sorted(self.requests.snapshot().items())
            ]
            return Response(200, {"requests": counts})
        if action == "slow":
            _require_method(request, "POST")
            seconds = _slow_seconds(request.query.get("seconds", ""))
            self.slowdown.start(seconds)
            return Response(200, {"slow_s": seconds})
        raise not_found()


def _slow_seconds(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_SLOW_S:  # nan fails too
        raise BadRequest(f"seconds must be a number from 0 to {MAX_SLOW_S:g}, got {raw!r}")
    return seconds


def _require_json_body(request: Request) -> None:
    media_type = request.content_type.split(";")[0].strip().lower()
    if request.body and media_type in _BINARY_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"the slagate sandbox reads JSON bodies only, not {media_type}: kubectl commands "
            "built on typed clients (auth can-i, autoscale, create deployment) send protobuf; "
            "use kubectl apply -f, kubectl patch or the Python client instead"
        )


def _require_method(request: Request, method: str) -> None:
    if request.method != method:
        raise MethodNotAllowed("the server does not allow this method on the requested resource")


def _openapi(route: OpenApiRoute, types: Sequence[ResourceType]) -> dict[str, Any]:
    if not route.path_key:
        return openapi_root(types)
    document = openapi_document(route.path_key, types)
    if document is None:
        raise not_found()
    return document


def _discovery(route: DiscoveryRoute, host: str, types: Sequence[ResourceType]) -> dict[str, Any]:
    if route.document == "version":
        return version_info()
    if route.document == "core":
        return core_versions(host)
    groups: list[dict[str, Any]] = group_list(types)["groups"]
    if route.document == "groups":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    if route.document == "group":
        group = next(g for g in groups if g["name"] == route.group)
        return {"kind": "APIGroup", "apiVersion": "v1", **group}
    return resource_list(route.group, route.version, types)
