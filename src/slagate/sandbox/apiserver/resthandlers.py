"""The REST verbs on one resource route: list, watch, get, create, update, patch, delete.

Each handler turns a parsed ``ResourceRoute`` plus a ``Request`` into a ``Response``
(or a ``WatchPlan`` to stream), calling the store. Errors propagate as ``ApiError``;
``api.Api`` turns them into Status bodies.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from slagate.errors import BadRequest, Expired, MethodNotAllowed, StatusDetails
from slagate.sandbox.apiserver.deleting import DeleteOptions
from slagate.sandbox.apiserver.messages import Render, Request, Response, WatchPlan, as_is
from slagate.sandbox.apiserver.patching import apply_patch, parse_json
from slagate.sandbox.apiserver.routing import ResourceRoute
from slagate.sandbox.apiserver.scale import apply_scale, to_scale
from slagate.sandbox.apiserver.statuses import success_status
from slagate.sandbox.apiserver.store import Change, ObjectStore
from slagate.sandbox.apiserver.tables import to_table, wants_table
from slagate.sandbox.objects.bodies import RawObject, metadata, name_of, namespace_of
from slagate.sandbox.objects.resources import ResourceType
from slagate.sandbox.objects.selection import Selection, parse_selection

_COLLECTION_VERBS = {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
_ITEM_VERBS = {
    "GET": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
    "POST": "create",  # pods/NAME/eviction, serviceaccounts/NAME/token
}


def verb_of(route: ResourceRoute, request: Request) -> str:
    """The Kubernetes verb of a request, as RBAC and request counters name it."""
    if route.name is None:
        verb = _COLLECTION_VERBS.get(request.method, request.method.lower())
        return "watch" if verb == "list" and request.flag("watch") else verb
    return _ITEM_VERBS.get(request.method, request.method.lower())


def handle_resource(
    store: ObjectStore, route: ResourceRoute, request: Request
) -> Response | WatchPlan:
    if "dryRun" in request.query:
        raise BadRequest("dryRun is not supported by the slagate sandbox")
    verb = verb_of(route, request)
    if route.subresource and verb not in ("get", "update", "patch"):
        raise MethodNotAllowed(f"{verb} is not allowed on {route.label}")
    handler = _HANDLERS.get(verb)
    if handler is None:
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    return handler(store, route, request)


def _selection(route: ResourceRoute, request: Request) -> Selection:
    return parse_selection(
        route.resource,
        route.namespace,
        request.query.get("labelSelector", ""),
        request.query.get("fieldSelector", ""),
    )


def _list(store: ObjectStore, route: ResourceRoute, request: Request) -> Response:
    result = store.list(_selection(route, request))
    page, list_meta = _paginate(result.items, str(result.revision), request)
    if wants_table(request.headers.get("accept", "")):
        return Response(200, to_table(route.resource, page, list_meta, store.now()))
    resource = route.resource
    body = {
        "kind": resource.list_kind,
        "apiVersion": resource.api_version,
        "metadata": list_meta,
        "items": page,
    }
    return Response(200, body)


def _paginate(
    items: list[RawObject], revision: str, request: Request
) -> tuple[list[RawObject], dict[str, Any]]:
    """Apply ``limit`` and ``continue``; the token remembers the first page's revision and
    the last key served (later pages read current state, never skip an object)."""
    limit = request.integer("limit") or 0
    token = request.query.get("continue")
    if token:
        revision, after = _decode_continue(token)
        items = [i for i in items if [namespace_of(i), name_of(i)] > after]
    list_meta: dict[str, Any] = {"resourceVersion": revision}
    if 0 < limit < len(items):
        last = items[limit - 1]
        list_meta["continue"] = _encode_continue(revision, [namespace_of(last), name_of(last)])
        list_meta["remainingItemCount"] = len(items) - limit
        items = items[:limit]
    return items, list_meta


def _encode_continue(revision: str, after: list[str]) -> str:
    raw = json.dumps({"rv": revision, "start": after}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token: str) -> tuple[str, list[str]]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(decoded["rv"]), [str(part) for part in decoded["start"]]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise BadRequest(f"invalid continue token {token!r}") from error


def _watch(store: ObjectStore, route: ResourceRoute, request: Request) -> WatchPlan:
    selection = _selection(route, request)
    timeout = request.integer("timeoutSeconds")
    bookmarks = request.flag("allowWatchBookmarks")
    timeout_s = float(timeout) if timeout is not None and timeout > 0 else None
    try:
        watcher = store.watch(selection, request.query.get("resourceVersion"))
    except Expired as error:
        return WatchPlan(route.resource, None, timeout_s, bookmarks, error)
    render: Render = partial(_versioned, route.resource) if route.resource.custom else as_is
    if wants_table(request.headers.get("accept", "")):
        render = partial(_table_row, store, route.resource)
    return WatchPlan(route.resource, watcher, timeout_s, bookmarks, render=render)


def _versioned(resource: ResourceType, obj: RawObject) -> RawObject:
    """A watch event's object at the watched version; the store's own is left alone."""
    return {**obj, "apiVersion": resource.api_version}


def _table_row(store: ObjectStore, resource: ResourceType, obj: RawObject) -> RawObject:
    list_meta = {"resourceVersion": metadata(obj).get("resourceVersion", "")}
    return to_table(resource, [obj], list_meta, store.now())


def _get(store: ObjectStore, route: ResourceRoute, request: Request) -> Response:
    obj = store.get(route.resource, route.namespace, _name(route))
    if route.subresource == "scale":
        return Response(200, to_scale(obj))
    if wants_table(request.headers.get("accept", "")):
        return Response(200, _table_row(store, route.resource, obj))
    return Response(200, obj)


def _create(store: ObjectStore, route: ResourceRoute, request: Request) -> Response:
    body = parse_json(request.body)
    return Response(201, store.create(route.resource, body, route.namespace))


def _update(store: ObjectStore, route: ResourceRoute, request: Request) -> Response:
    body = parse_json(request.body)
    if route.subresource == "scale":
        return _write_scale(store, route, lambda current: apply_scale(current, body))
    obj = store.replace(route.resource, route.namespace, _name(route), body, route.subresource)
    return Response(200, obj)


def _patch(store: ObjectStore, route: ResourceRoute, request: Request) -> Response:
    def patched_scale(current: RawObject) -> RawObject:
        scale = apply_patch(to_scale(current), request.body, request.content_type)
        return apply_scale(current, scale)

    if route.subresource == "scale":
        return _write_scale(store, route, patched_scale)
    obj = store.modify(
        route.resource,
        route.namespace,
        _name(route),
        lambda current: apply_patch(current, request.body, request.content_type),
        route.subresource,
    )
    return Response(200, obj)


def _write_scale(store: ObjectStore, route: ResourceRoute, change: Change) -> Response:
    obj = store.modify(route.resource, route.namespace, _name(route), change)
    return Response(200, to_scale(obj))


def _delete(store: ObjectStore, route: ResourceRoute, request: Request) -> Response:
    options = _delete_options(request)
    deletion = store.delete(route.resource, route.namespace, _name(route), options)
    if not deletion.removed or route.resource.echo_on_delete:
        return Response(200, deletion.object)
    details: StatusDetails = {
        "name": name_of(deletion.object),
        "group": route.resource.group,
        "kind": route.resource.plural,
        "uid": str(metadata(deletion.object).get("uid", "")),
    }
    return Response(200, success_status(details))


def _delete_collection(store: ObjectStore, route: ResourceRoute, request: Request) -> Response:
    deletions = store.delete_collection(_selection(route, request), _delete_options(request))
    resource = route.resource
    return Response(
        200,
        {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(store.revision)},
            "items": [d.object for d in deletions],
        },
    )


def _delete_options(request: Request) -> DeleteOptions:
    body = parse_json(request.body) if request.body.strip() else None
    return DeleteOptions.from_json(body, dict(request.query))


def _name(route: ResourceRoute) -> str:
    assert route.name is not None, "item verbs are only routed with a name"
    return route.name


Handler = Callable[[ObjectStore, ResourceRoute, Request], Response | WatchPlan]
_HANDLERS: dict[str, Handler] = {
    "list": _list,
    "watch": _watch,
    "get": _get,
    "create": _create,
    "update": _update,
    "patch": _patch,
    "delete": _delete,
    "deletecollection": _delete_collection,
}
