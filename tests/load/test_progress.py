from __future__ import annotations

from slagate.load.launching import LoadStatus, apply_message


def test_progress_and_events_fold_into_status() -> None:
    s = apply_message(LoadStatus(), {"type": "event", "kind": "load_start", "t_ms": 1000})
    s = apply_message(
        s,
        {
            "type": "progress",
            "t_ms": 3000,
            "users": 4,
            "requests": 90,
            "failures": 2,
            "rps": 45.0,
            "fail_rps": 1.0,
        },
    )
    s = apply_message(s, {"type": "event", "kind": "users", "t_ms": 3100, "name": "8"})
    assert s.load_start_ms == 1000
    assert (s.users, s.requests, s.failures, s.rps) == (4, 90, 2, 45.0)
    assert s.events == ("load_start", "users 8")
    assert s.event_count == 2


def test_unknown_and_error_messages() -> None:
    s = apply_message(LoadStatus(), {"type": "whatever"})
    assert s == LoadStatus()
    assert apply_message(s, {"type": "error", "message": "no locustfile"}).error == "no locustfile"


def test_event_history_is_bounded() -> None:
    s = LoadStatus()
    for i in range(30):
        s = apply_message(s, {"type": "event", "kind": "users", "t_ms": i, "name": str(i)})
    assert len(s.events) == 20
    assert s.events[-1] == "users 29"
    assert s.event_count == 30
