"""The work queue: coalescing, earliest due time wins, what counts as busy."""

from __future__ import annotations

import threading

from slagate.sandbox.controllermanager.queueing import WorkQueue
from tests.fakes import FakeClock

A = ("default", "a")
B = ("default", "b")


def queue(coalesce_s: float = 0.5) -> tuple[WorkQueue, FakeClock]:
    clock = FakeClock(100.0)
    return WorkQueue(coalesce_s, clock), clock


def test_a_key_added_twice_is_synced_once_after_the_coalescing_delay() -> None:
    q, clock = queue()
    q.add(A)
    q.add(A)
    clock.now_s += 0.5

    assert q.get() == A
    q.done(A)
    assert not q.busy()


def test_due_keys_come_out_earliest_first() -> None:
    q, clock = queue()
    q.add_after(B, 2.0)
    q.add(A)
    clock.now_s += 5.0

    assert [q.get(), q.get()] == [A, B]


def test_the_earlier_due_time_wins() -> None:
    q, clock = queue()
    q.add(A)
    q.add_after(A, 60.0)  # does not postpone the pending sync
    clock.now_s += 0.5

    assert q.get() == A


def test_scheduled_keys_are_not_busy_until_due_events_are() -> None:
    q, clock = queue()
    q.add_after(A, 10.0)
    assert not q.busy()

    q.add(A)
    assert q.busy()
    clock.now_s += 0.5
    assert q.get() == A
    assert q.busy()  # being synced
    q.done(A)
    assert not q.busy()

    q.add_after(B, 1.0)
    clock.now_s += 1.0
    assert q.busy()  # overdue


def test_a_key_added_while_it_is_synced_waits_for_done() -> None:
    q, _clock = queue(coalesce_s=0.0)
    q.add(A)
    assert q.get() == A
    q.add(A)
    q.add(B)

    assert q.get() == B  # A is still being synced
    q.done(A)
    assert q.get() == A


def test_close_wakes_a_blocked_get() -> None:
    q = WorkQueue(0.01)
    got: list[object] = []
    getter = threading.Thread(target=lambda: got.append(q.get()))
    getter.start()

    q.close()
    getter.join(2.0)

    assert got == [None]
    q.add(A)
    assert not q.busy()
