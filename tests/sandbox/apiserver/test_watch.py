"""Watches through the official client's ``kubernetes.watch.Watch`` and on the wire:
resume from a list's resourceVersion, 410 then re-list, BOOKMARK, timeouts, cuts."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client, watch

from slagate.sandbox.apiserver import ApiServer, ApiServerSettings
from slagate.sandbox.apiserver.store import ObjectStore
from tests.sandbox.manifests import deployment, pod
from tests.sandbox.rawapi import raw_client

DEPLOYMENTS_URL = "/apis/apps/v1/namespaces/default/deployments"


def _events(stream: Generator[dict[str, Any]], count: int) -> list[tuple[str, str]]:
    """The first ``count`` events; closes the stream (and its connection) right away."""
    seen = []
    with contextlib.closing(stream):
        for event in stream:
            seen.append((event["type"], event["raw_object"]["metadata"].get("name", "")))
            if len(seen) == count:
                break
    return seen


def test_watch_from_list_resource_version_sees_every_change(apps_api: client.AppsV1Api) -> None:
    apps_api.create_namespaced_deployment("default", deployment("old"))
    since = apps_api.list_namespaced_deployment("default").metadata.resource_version
    apps_api.create_namespaced_deployment("default", deployment("web"))
    apps_api.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
    apps_api.delete_namespaced_deployment("web", "default")

    stream = watch.Watch().stream(
        apps_api.list_namespaced_deployment, "default", resource_version=since, timeout_seconds=5
    )
    assert _events(stream, 3) == [("ADDED", "web"), ("MODIFIED", "web"), ("DELETED", "web")]


def test_watch_without_resource_version_starts_with_synthetic_adds(
    apps_api: client.AppsV1Api,
) -> None:
    for name in ("a", "b"):
        apps_api.create_namespaced_deployment("default", deployment(name))
    stream = watch.Watch().stream(apps_api.list_namespaced_deployment, "default", timeout_seconds=5)
    assert _events(stream, 2) == [("ADDED", "a"), ("ADDED", "b")]


def test_watch_with_label_selector_sees_objects_enter_and_leave(core_api: client.CoreV1Api) -> None:
    since = core_api.list_namespaced_pod("default").metadata.resource_version
    core_api.create_namespaced_pod("default", pod("p", {"app": "web"}))
    core_api.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"app": "db"}}})
    core_api.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"app": "web"}}})
    stream = watch.Watch().stream(
        core_api.list_namespaced_pod,
        "default",
        label_selector="app=web",
        resource_version=since,
        timeout_seconds=5,
    )
    assert _events(stream, 3) == [("ADDED", "p"), ("DELETED", "p"), ("ADDED", "p")]


@pytest.fixture
def tiny_window_server() -> Iterator[ApiServer]:
    store = ObjectStore(event_window=2)
    with ApiServer(store, settings=ApiServerSettings(liveness_check_s=0.2)) as server:
        yield server


def test_expired_watch_raises_410_then_relist_and_watch_work(
    tiny_window_server: ApiServer, tmp_path: Any
) -> None:
    from kubernetes import config

    kubeconfig = tiny_window_server.write_kubeconfig(tmp_path / "kc")
    with config.new_client_from_config(
        config_file=str(kubeconfig), persist_config=False
    ) as api_client:
        apps = client.AppsV1Api(api_client)
        old = apps.list_namespaced_deployment("default").metadata.resource_version
        for replicas in range(1, 5):
            apps.create_namespaced_deployment("default", deployment(f"d{replicas}"))
        with pytest.raises(client.ApiException) as raised:
            list(
                watch.Watch().stream(
                    apps.list_namespaced_deployment, "default", resource_version=old
                )
            )
        assert raised.value.status == 410

        fresh = apps.list_namespaced_deployment("default")
        apps.create_namespaced_deployment("default", deployment("d5"))
        stream = watch.Watch().stream(
            apps.list_namespaced_deployment,
            "default",
            resource_version=fresh.metadata.resource_version,
            timeout_seconds=5,
        )
        assert [d.metadata.name for d in fresh.items] == ["d1", "d2", "d3", "d4"]
        assert _events(stream, 1) == [("ADDED", "d5")]
    assert tiny_window_server.request_counts()[("deployments", "watch")] == 3


def test_expired_watch_on_the_wire_is_200_with_an_error_event(
    tiny_window_server: ApiServer,
) -> None:
    with raw_client(tiny_window_server) as http:
        for name in ("a", "b", "c"):
            http.post(DEPLOYMENTS_URL, json=deployment(name))
        response = http.get(DEPLOYMENTS_URL, params={"watch": "true", "resourceVersion": "1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["transfer-encoding"] == "chunked"
    assert [json.loads(line) for line in response.text.splitlines()] == [
        {
            "type": "ERROR",
            "object": {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "too old resource version: 1 (3)",
                "reason": "Expired",
                "details": {},
                "code": 410,
            },
        }
    ]


@pytest.mark.parametrize(
    "api_settings", [ApiServerSettings(bookmark_interval_s=0.2, liveness_check_s=0.1)]
)
def test_bookmarks_carry_the_current_resource_version(
    raw_http: httpx.Client, sandbox_store: ObjectStore
) -> None:
    raw_http.post(DEPLOYMENTS_URL, json=deployment())
    params = {
        "watch": "1",
        "resourceVersion": str(sandbox_store.revision),
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "1",
    }
    lines = raw_http.get(DEPLOYMENTS_URL, params=params).text.splitlines()
    bookmarks = [json.loads(line) for line in lines]
    assert len(bookmarks) >= 3
    assert bookmarks[0] == {
        "type": "BOOKMARK",
        "object": {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {"resourceVersion": str(sandbox_store.revision)},
        },
    }


def test_timeout_seconds_ends_the_stream_cleanly(apps_api: client.AppsV1Api) -> None:
    started = time.monotonic()
    events = list(
        watch.Watch().stream(
            apps_api.list_namespaced_deployment, "default", resource_version="1", timeout_seconds=1
        )
    )
    assert events == []
    assert 0.9 <= time.monotonic() - started < 2.5


def _collect(
    api: client.AppsV1Api, since: str, sink: queue.Queue[tuple[str, str]], count: int
) -> None:
    """Like an informer: watch (resuming after any cut) until ``count`` events arrived."""
    stream = watch.Watch().stream(api.list_namespaced_deployment, "default", resource_version=since)
    with contextlib.closing(stream):
        for event in stream:
            sink.put((event["type"], event["raw_object"]["metadata"]["name"]))
            count -= 1
            if count == 0:
                break


def _next(events: queue.Queue[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    return [events.get(timeout=5) for _ in range(count)]


def test_cut_watches_lose_no_transition(api_server: ApiServer, apps_api: client.AppsV1Api) -> None:
    since = apps_api.list_namespaced_deployment("default").metadata.resource_version
    events: queue.Queue[tuple[str, str]] = queue.Queue()
    thread = threading.Thread(target=_collect, args=(apps_api, since, events, 3))
    thread.start()
    apps_api.create_namespaced_deployment("default", deployment("a"))
    first = _next(events, 1)

    assert api_server.cut_watches() == 1
    # The events below must reach the resumed watch, not ride out on the cut one: a
    # stream that still carried them would end the client's count before it resumes.
    _wait_for(lambda: api_server.request_counts()[("deployments", "watch")] == 2)
    _wait_for(lambda: api_server.open_watches == 1)
    apps_api.create_namespaced_deployment("default", deployment("b"))
    apps_api.patch_namespaced_deployment("a", "default", {"spec": {"replicas": 5}})
    after_cut = _next(events, 2)
    thread.join(5)

    assert first + after_cut == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "a")]
    assert api_server.request_counts()[("deployments", "watch")] == 2


def test_cut_endpoint_ends_streams_cleanly(api_server: ApiServer, raw_http: httpx.Client) -> None:
    with raw_http.stream("GET", DEPLOYMENTS_URL, params={"watch": "true"}) as response:
        _wait_for(lambda: api_server.open_watches == 1)
        with raw_client(api_server) as control:
            cut = control.post("/_sandbox/cut-watches")
        assert cut.json() == {"cut": 1}
        assert response.read() == b""


def test_abrupt_cut_drops_the_connection(api_server: ApiServer, raw_http: httpx.Client) -> None:
    with raw_http.stream("GET", DEPLOYMENTS_URL, params={"watch": "true"}) as response:
        _wait_for(lambda: api_server.open_watches == 1)
        api_server.cut_watches(abrupt=True)
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()


def test_concurrent_watches_each_get_every_event(
    api_server: ApiServer, raw_http: httpx.Client
) -> None:
    results: queue.Queue[list[str]] = queue.Queue()

    def watch_once() -> None:
        with raw_client(api_server) as http:
            params = {"watch": "true", "resourceVersion": "1", "timeoutSeconds": "1"}
            lines = http.get(DEPLOYMENTS_URL, params=params).text.splitlines()
            results.put([json.loads(line)["type"] for line in lines])

    threads = [threading.Thread(target=watch_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    _wait_for(lambda: api_server.open_watches == 4)
    raw_http.post(DEPLOYMENTS_URL, json=deployment())
    for thread in threads:
        thread.join(5)
    assert [results.get_nowait() for _ in range(4)] == [["ADDED"]] * 4


def test_watch_of_a_client_that_hangs_up_is_released(api_server: ApiServer) -> None:
    with (
        raw_client(api_server) as http,
        http.stream("GET", DEPLOYMENTS_URL, params={"watch": "true"}),
    ):
        _wait_for(lambda: api_server.open_watches == 1)
    _wait_for(lambda: api_server.open_watches == 0)


def _wait_for(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


SLOW_S = 1.0  # against answers of milliseconds


def test_slow_endpoint_holds_answers_back_for_a_while(
    api_server: ApiServer, raw_http: httpx.Client
) -> None:
    with raw_client(api_server) as control:
        for wrong in ("", "abc", "nan", "-1", "601"):
            refused = control.post("/_sandbox/slow", params={"seconds": wrong})
            assert refused.status_code == 400, wrong
            assert "seconds must be a number from 0 to 600" in refused.json()["message"]
        started = time.monotonic()
        assert control.post("/_sandbox/slow", params={"seconds": SLOW_S}).json() == {
            "slow_s": SLOW_S
        }
        assert raw_http.get(DEPLOYMENTS_URL).status_code == 200
        assert time.monotonic() - started >= SLOW_S * 0.9
        # the controls are never held back: a slowdown can be lifted at once
        control.post("/_sandbox/slow", params={"seconds": 60})
        assert control.post("/_sandbox/slow", params={"seconds": 0}).status_code == 200
    quick = time.monotonic()
    assert raw_http.get(DEPLOYMENTS_URL).status_code == 200
    assert time.monotonic() - quick < SLOW_S
