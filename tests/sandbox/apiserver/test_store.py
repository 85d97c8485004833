"""The object store used in-process, as controllers will: no HTTP."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from slagate.errors import Conflict, Expired, NotFound
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.deleting import DeleteOptions, GracefulDeletion
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS
from slagate.sandbox.objects.selection import Selection, parse_selection
from tests.fakes import FakeClock
from tests.sandbox.manifests import deployment, pod
from tests.sandbox.rawapi import bearer, raw_client

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _owned_by(owner: RawObject, manifest: dict[str, Any]) -> dict[str, Any]:
    meta = owner["metadata"]
    manifest["metadata"]["ownerReferences"] = [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
        }
    ]
    return manifest


def test_list_then_watch_from_its_revision_in_process() -> None:
    store = ObjectStore()
    store.create(PODS, pod("a"), "default")
    snapshot = store.list(Selection(PODS, "default"))
    with store.watch(Selection(PODS, "default"), since=snapshot.revision) as watcher:
        store.create(PODS, pod("b"), "default")
        store.modify(
            PODS,
            "default",
            "a",
            lambda p: {**p, "metadata": {**p["metadata"], "labels": {"x": "y"}}},
        )
        events = watcher.poll(timeout_s=0.0) + watcher.poll(timeout_s=0.0)
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        (EventType.ADDED, "b"),
        (EventType.MODIFIED, "a"),
    ]
    assert [e.revision for e in events] == [snapshot.revision + 1, snapshot.revision + 2]


def test_polled_objects_are_copies() -> None:
    store = ObjectStore()
    with store.watch(Selection(PODS)) as watcher:
        store.create(PODS, pod("a"), "default")
        watcher.poll(0.0)[0].object["metadata"]["name"] = "changed"
    assert store.get(PODS, "default", "a")["metadata"]["name"] == "a"


def test_poll_blocks_until_an_event_or_the_timeout() -> None:
    store = ObjectStore()
    watcher = store.watch(Selection(PODS), since=store.revision)
    timer = threading.Timer(0.05, lambda: store.create(PODS, pod("late"), "default"))
    timer.start()
    events = watcher.poll(timeout_s=5.0)
    timer.join()
    assert [e.object["metadata"]["name"] for e in events] == ["late"]
    assert watcher.poll(timeout_s=0.05) == []


def test_close_wakes_a_blocked_poll() -> None:
    store = ObjectStore()
    watcher = store.watch(Selection(PODS), since=store.revision)
    threading.Timer(0.05, watcher.close).start()
    assert watcher.poll(timeout_s=5.0) == []
    assert watcher.closed


def test_watch_older_than_the_window_is_expired() -> None:
    store = ObjectStore(event_window=2)
    start = store.revision
    for name in ("a", "b", "c"):
        store.create(PODS, pod(name), "default")
    with pytest.raises(Expired, match="too old resource version"):
        store.watch(Selection(PODS), since=start)
    assert len(store.watch(Selection(PODS), since=start + 1).poll(0.0)) == 2


def test_a_write_equal_to_the_stored_object_changes_nothing() -> None:
    store = ObjectStore()
    created = store.create(DEPLOYMENTS, deployment(), "default")
    again = store.replace(DEPLOYMENTS, "default", "web", created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert store.revision == int(created["metadata"]["resourceVersion"])


def test_modify_with_a_stale_resource_version_is_conflict() -> None:
    store = ObjectStore()
    created = store.create(DEPLOYMENTS, deployment(), "default")
    store.modify(
        DEPLOYMENTS, "default", "web", lambda d: {**d, "spec": {**d["spec"], "replicas": 4}}
    )
    with pytest.raises(Conflict):
        store.replace(DEPLOYMENTS, "default", "web", created)


def test_graceful_deletion_hook_keeps_the_pod_until_grace_zero() -> None:
    clock = FakeClock(T0.timestamp())
    store = ObjectStore(clock=clock.utc)
    store.set_delete_hook(PODS, GracefulDeletion(clock.utc))
    store.create(PODS, pod("a"), "default")
    with store.watch(Selection(PODS), since=store.revision) as watcher:
        first = store.delete(PODS, "default", "a")
        shortened = store.delete(PODS, "default", "a", DeleteOptions(grace_period_seconds=5))
        final = store.delete(PODS, "default", "a", DeleteOptions(grace_period_seconds=0))
        events = watcher.poll(0.0)
    expected_end = (T0 + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (first.removed, first.object["metadata"]["deletionTimestamp"]) == (False, expected_end)
    assert shortened.object["metadata"]["deletionGracePeriodSeconds"] == 5
    assert final.removed
    assert [e.type for e in events] == [EventType.MODIFIED, EventType.MODIFIED, EventType.DELETED]
    with pytest.raises(NotFound):
        store.get(PODS, "default", "a")


def test_deleting_an_owner_deletes_its_dependents_unless_orphaned() -> None:
    store = ObjectStore()
    owner = store.create(DEPLOYMENTS, deployment(), "default")
    replica_set = {**deployment("web-abc"), "kind": "ReplicaSet"}
    rs = store.create(REPLICASETS, _owned_by(owner, replica_set), "default")
    store.create(PODS, _owned_by(rs, pod("web-abc-1")), "default")
    store.create(PODS, pod("bystander"), "default")
    store.delete(DEPLOYMENTS, "default", "web")
    assert [p["metadata"]["name"] for p in store.list(Selection(PODS)).items] == ["bystander"]
    assert store.list(Selection(REPLICASETS)).items == []

    orphan_owner = store.create(DEPLOYMENTS, deployment("keep"), "default")
    store.create(PODS, _owned_by(orphan_owner, pod("orphan")), "default")
    store.delete(DEPLOYMENTS, "default", "keep", DeleteOptions(propagation_policy="Orphan"))
    assert [p["metadata"]["name"] for p in store.list(Selection(PODS)).items] == [
        "bystander",
        "orphan",
    ]


def test_delete_collection_copes_with_dependents_collected_on_the_way() -> None:
    store = ObjectStore()
    parent = store.create(PODS, pod("a-parent"), "default")
    store.create(PODS, _owned_by(parent, pod("b-child")), "default")
    deletions = store.delete_collection(Selection(PODS, "default"))
    assert [d.object["metadata"]["name"] for d in deletions] == ["a-parent"]
    assert store.list(Selection(PODS)).items == []


def test_namespace_deletion_takes_its_contents() -> None:
    store = ObjectStore(namespaces=("default", "shop"))
    store.create(PODS, pod("a"), "shop")
    store.create(PODS, pod("b"), "default")
    store.delete(NAMESPACES, None, "shop")
    assert [p["metadata"]["name"] for p in store.list(Selection(PODS)).items] == ["b"]


def test_concurrent_writers_get_unique_revisions() -> None:
    store = ObjectStore()
    start = store.revision

    def create_many(prefix: str) -> None:
        for index in range(50):
            store.create(PODS, pod(f"{prefix}-{index}"), "default")

    threads = [threading.Thread(target=create_many, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items = store.list(Selection(PODS)).items
    revisions = {int(p["metadata"]["resourceVersion"]) for p in items}
    assert len(items) == 200
    assert revisions == set(range(start + 1, start + 201))


def test_selection_from_query_strings() -> None:
    selection = parse_selection(PODS, "default", "app in (web)", "metadata.name!=b")
    web = {"app": "web"}
    assert selection.matches({"metadata": {"name": "a", "namespace": "default", "labels": web}})
    assert not selection.matches({"metadata": {"name": "b", "namespace": "default", "labels": web}})
    assert not selection.matches({"metadata": {"name": "a", "namespace": "x", "labels": web}})


def test_two_sandboxes_run_side_by_side_and_stop_cleanly() -> None:
    with ApiServer() as one, ApiServer() as two:
        assert one.port != two.port
        assert one.token != two.token
        url = "/apis/apps/v1/namespaces/default/deployments"
        with raw_client(one) as to_one, raw_client(two) as to_two:
            to_one.post(url, json=deployment("only-in-one"))
            assert to_two.get(url).json()["items"] == []
        with raw_client(two, headers=bearer(one)) as with_ones_token:
            assert with_ones_token.get(url).status_code == 401
        port = one.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"https://127.0.0.1:{port}/version", verify=False)


def test_stop_ends_open_watch_streams(api_server: ApiServer, raw_http: httpx.Client) -> None:
    url = "/apis/apps/v1/namespaces/default/deployments"
    with raw_http.stream("GET", url, params={"watch": "true"}) as response:
        while api_server.open_watches == 0:
            threading.Event().wait(0.01)
        api_server.stop()
        assert response.read() == b""
