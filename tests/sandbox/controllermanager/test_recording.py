"""Events: what one looks like, and identical repeats counted on the same object."""

from __future__ import annotations

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager.recording import EventRecorder
from slagate.sandbox.objects.bodies import RawObject, metadata, name_of, rfc3339
from slagate.sandbox.objects.resources import DEPLOYMENTS, EVENTS
from slagate.sandbox.objects.selection import Selection
from tests.fakes import FakeClock
from tests.sandbox.controllermanager.fakes import NS, deployment


def setup() -> tuple[ObjectStore, FakeClock, EventRecorder, RawObject]:
    clock = FakeClock()
    store = ObjectStore(clock=clock.utc)
    recorder = EventRecorder(store, "deployment-controller", clock)
    return store, clock, recorder, store.create(DEPLOYMENTS, deployment(), NS)


def events(store: ObjectStore) -> list[RawObject]:
    return store.list(Selection(EVENTS, NS)).items


def test_an_event_names_its_object_reason_and_source() -> None:
    store, clock, recorder, d = setup()

    recorder.normal(d, "ScalingReplicaSet", "Scaled up replica set web-abc from 0 to 3")

    [event] = events(store)
    assert name_of(event).startswith("web.")
    assert event["involvedObject"] == {
        "kind": "Deployment",
        "namespace": NS,
        "name": "web",
        "uid": metadata(d)["uid"],
        "apiVersion": "apps/v1",
        "resourceVersion": metadata(d)["resourceVersion"],
    }
    assert {k: event[k] for k in ("reason", "message", "type", "count", "source")} == {
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set web-abc from 0 to 3",
        "type": "Normal",
        "count": 1,
        "source": {"component": "deployment-controller"},
    }
    assert event["firstTimestamp"] == event["lastTimestamp"] == rfc3339(clock.utc())


def test_an_identical_repeat_counts_on_the_first_event() -> None:
    store, clock, recorder, d = setup()
    first = rfc3339(clock.utc())
    recorder.warning(d, "FailedGetScale", "not found")
    clock.advance(15.0)

    recorder.warning(d, "FailedGetScale", "not found")

    [event] = events(store)
    assert (event["type"], event["count"]) == ("Warning", 2)
    assert (event["firstTimestamp"], event["lastTimestamp"]) == (first, rfc3339(clock.utc()))


def test_another_message_is_another_event() -> None:
    store, _clock, recorder, d = setup()
    recorder.normal(d, "ScalingReplicaSet", "Scaled up replica set a from 0 to 1")

    recorder.normal(d, "ScalingReplicaSet", "Scaled up replica set a from 1 to 2")

    assert sorted(e["message"] for e in events(store)) == [
        "Scaled up replica set a from 0 to 1",
        "Scaled up replica set a from 1 to 2",
    ]


def test_a_repeat_of_a_deleted_event_starts_a_new_one() -> None:
    store, _clock, recorder, d = setup()
    recorder.normal(d, "SuccessfulRescale", "New size: 3")
    [event] = events(store)
    store.delete(EVENTS, NS, name_of(event))

    recorder.normal(d, "SuccessfulRescale", "New size: 3")

    [again] = events(store)
    assert (again["count"], name_of(again) != name_of(event)) == (1, True)
