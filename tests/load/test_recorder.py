from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from slagate.errors import LoadError
from slagate.load.recorder import OVERFLOW_NAME, LatencyMath, Recorder, Totals, error_text
from slagate.timeline import ERROR_TEXT_MAX, SCHEMAS
from tests.fakes import FakeClock


def bucket(ms: float) -> int:
    """Locust's bucketing below 1 s: exact below 100 ms, then to 10 ms."""
    return round(ms) if ms < 100 else int(round(ms, -1))


def percentile(histogram: dict[int, int], count: int, fraction: float) -> int:
    """The algorithm of locust.stats.calculate_response_time_percentile."""
    wanted = int(count * fraction)
    seen = 0
    for ms in sorted(histogram, reverse=True):
        seen += histogram[ms]
        if count - seen <= wanted:
            return ms
    return 0


@dataclass
class Response:
    status_code: Any


def recorder(clock: FakeClock, **kw: Any) -> Recorder:
    return Recorder(worker="w1", clock=clock, latency=LatencyMath(bucket, percentile), **kw)


def fire(rec: Recorder, start: float, ms: float | None, name: str = "/a", **kw: Any) -> None:
    rec.on_request(
        request_type=kw.pop("method", "GET"),
        name=name,
        response_time=ms,
        response_length=10,
        response=kw.pop("response", Response(200)),
        context={},
        exception=kw.pop("exception", None),
        start_time=start,
        url="http://x" + name,
    )


def test_counts_are_exact_per_second_and_endpoint() -> None:
    rec = recorder(FakeClock(200.0))
    for i in range(5):
        fire(rec, 100.1 + i * 0.1, 10)
    fire(rec, 100.5, 10, method="POST")
    fire(rec, 101.2, 10)
    rows = rec.collect(final=True)["requests"]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (100, "GET", "/a", 5),
        (100, "POST", "/a", 1),
        (101, "GET", "/a", 1),
    ]
    assert rec.totals == Totals(7, 0)


def test_a_request_counts_in_the_second_it_ended() -> None:
    rec = recorder(FakeClock(200.0))
    fire(rec, 100.9, 250.0)
    assert rec.collect(final=True)["requests"][0][0] == 101


def test_without_a_start_time_the_clock_dates_the_request() -> None:
    clock = FakeClock(150.7)
    rec = recorder(clock)
    rec.on_request("GET", "/a", 5.0, 0)
    assert rec.collect(final=True)["requests"][0][0] == 150


def test_latency_sum_max_histogram_and_percentiles() -> None:
    rec = recorder(FakeClock(200.0))
    for ms in [1.2, 1.4, 3.0, 3.0, 147.0, 152.0, 90.0, 2.0, 2.0, 2.0]:
        fire(rec, 100.0, ms)
    batch = rec.collect(final=True)
    (row,) = batch["requests"]
    assert row[5] == pytest.approx(403.6)  # latency_sum_ms
    assert row[6] == 152.0  # latency_max_ms
    assert row[7:10] == (3.0, 150.0, 150.0)  # p50, p95, p99
    assert [(r[3], r[4]) for r in batch["latency"]] == [(1, 2), (2, 3), (3, 2), (90, 1), (150, 2)]
    assert all(r[:3] == (100, "GET", "/a") and r[5] == "w1" for r in batch["latency"])


def test_untimed_requests_count_but_have_no_latency() -> None:
    rec = recorder(FakeClock(200.0))
    fire(rec, 100.0, None)
    batch = rec.collect(final=True)
    assert batch["requests"] == [(100, "GET", "/a", 1, 0, 0.0, None, None, None, None, "w1")]
    assert batch["latency"] == []


def test_failures_are_counted_exactly_and_rows_capped_per_second() -> None:
    rec = recorder(FakeClock(200.0), failure_rows_per_s=3)
    for i in range(5):
        fire(rec, 100.0 + i / 10, 500.0, exception=RuntimeError("boom"), response=Response(503))
    fire(rec, 101.0, 500.0, exception="refused", response=Response(0))
    fire(rec, 101.0, 500.0)
    batch = rec.collect(final=True)
    assert [(r[0], r[3], r[4]) for r in batch["requests"]] == [(100, 5, 5), (101, 2, 1)]
    assert len(batch["failures"]) == 4
    assert batch["failures"][0] == (100500, "GET", "/a", 503, "RuntimeError: boom", "w1")
    assert batch["failures"][3] == (101500, "GET", "/a", 0, "refused", "w1")
    assert rec.failure_rows_dropped == 2
    assert rec.totals == Totals(7, 6)


def test_failure_without_a_status_code_is_status_zero() -> None:
    rec = recorder(FakeClock(200.0))
    fire(rec, 100.0, 1.0, exception=OSError("reset"), response=None)
    fire(rec, 100.0, 1.0, exception=OSError("reset"), response=Response(None))
    assert [r[3] for r in rec.collect(final=True)["failures"]] == [0, 0]


def test_error_text_is_truncated() -> None:
    text = error_text(ValueError("x" * 1000))
    assert len(text) == ERROR_TEXT_MAX
    assert text.startswith("ValueError: xxx") and text.endswith("...")


def test_collect_moves_only_seconds_that_ended_a_second_ago() -> None:
    clock = FakeClock(102.5)
    rec = recorder(clock)
    for start in (100.2, 101.2, 102.2):
        fire(rec, start, 1.0, exception="e")
    batch = rec.collect()
    assert [r[0] for r in batch["requests"]] == [100]
    assert [r[0] // 1000 for r in batch["failures"]] == [100]
    clock.now_s = 103.0
    assert [r[0] for r in rec.collect()["requests"]] == [101]
    assert rec.collect()["requests"] == []
    assert [r[0] for r in rec.collect(final=True)["requests"]] == [102]


def test_every_row_matches_its_table_schema_width() -> None:
    rec = recorder(FakeClock(200.0))
    fire(rec, 100.0, 1.0, exception="e")
    rec.event("load_start")
    rec.acknowledge("order", "42")
    for table, rows in rec.collect(final=True).items():
        assert rows, table
        assert all(len(r) == len(SCHEMAS[table]) for r in rows), table


def test_events_and_acks_are_stamped_by_the_clock() -> None:
    clock = FakeClock(100.25)
    rec = recorder(clock)
    assert rec.event("users", "10") == (100250, "harness", "users", "10", "")
    clock.now_s = 100.5
    rec.acknowledge("order", "ab12")
    batch = rec.collect()
    assert batch["events"] == [(100250, "harness", "users", "10", "")]
    assert batch["acks"] == [(100500, "order", "ab12", "w1")]
    assert rec.collect()["events"] == []


def test_merge_takes_worker_rows_sent_as_lists() -> None:
    rec = recorder(FakeClock(200.0))
    rec.merge(
        {
            "requests": [[100, "GET", "/a", 7, 2, 70.0, 20.0, 10.0, 20.0, 20.0, "w2"]],
            "acks": [[100100, "order", "9", "w2"]],
        }
    )
    batch = rec.collect()
    assert batch["requests"] == [(100, "GET", "/a", 7, 2, 70.0, 20.0, 10.0, 20.0, 20.0, "w2")]
    assert batch["acks"] == [(100100, "order", "9", "w2")]
    assert rec.totals == Totals(7, 2)
    assert rec.second_totals(100) == Totals(7, 2)


def test_merge_refuses_malformed_rows() -> None:
    with pytest.raises(LoadError, match="malformed 'requests' rows"):
        recorder(FakeClock(0.0)).merge({"requests": [[1, "GET"]]})
    with pytest.raises(LoadError, match="unknown table 'nope'"):
        recorder(FakeClock(0.0)).merge({"nope": []})


def test_window_totals_cover_collected_and_live_seconds() -> None:
    clock = FakeClock(103.5)
    rec = recorder(clock)
    fire(rec, 100.5, 1.0)
    fire(rec, 101.5, 1.0, exception="e")
    fire(rec, 102.5, 1.0, exception="e")
    rec.collect()  # moves 100 and 101
    assert rec.second_totals(101) == Totals(1, 1)
    assert rec.window_totals(100, 102) == Totals(3, 2)
    assert rec.window_totals(101, 101) == Totals(1, 1)


def test_history_older_than_its_span_is_forgotten() -> None:
    clock = FakeClock(103.0)
    rec = recorder(clock, history_s=10)
    fire(rec, 100.5, 1.0)
    rec.collect()
    clock.now_s = 200.0
    rec.collect()
    assert rec.second_totals(100) == Totals(0, 0)


def test_the_pure_modules_do_not_import_locust_or_gevent() -> None:
    code = (
        "import sys\n"
        "import slagate.load.recorder, slagate.load.session, slagate.load.plans\n"
        "import slagate.load.options, slagate.load.aborting, slagate.load.progress\n"
        "bad = [m for m in ('locust', 'gevent') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_names_past_the_bound_are_folded_into_one_endpoint_with_one_warning() -> None:
    rec = recorder(FakeClock(200.0), max_endpoints=3)
    seen: list[Any] = []
    rec.on_event(seen.append)
    for i in range(10):
        fire(rec, 100.1, 10, name=f"/orders/{i}")
    fire(rec, 100.2, 10, name="/orders/1", exception=RuntimeError("boom"))
    fire(rec, 101.2, 10, name="/orders/9", exception=RuntimeError("boom"))
    batch = rec.collect(final=True)
    counts = {(r[0], r[2]): (r[3], r[4]) for r in batch["requests"]}
    assert counts == {
        (100, "/orders/0"): (1, 0),
        (100, "/orders/1"): (2, 1),
        (100, "/orders/2"): (1, 0),
        (100, OVERFLOW_NAME): (7, 0),
        (101, OVERFLOW_NAME): (1, 1),
    }
    assert [r[2] for r in batch["failures"]] == ["/orders/1", OVERFLOW_NAME]
    assert rec.totals == Totals(12, 2)
    assert rec.requests_folded == 8
    (event,) = batch["events"]
    assert seen == [event]
    assert (event.kind, event.name) == ("names_folded", "")
    assert "more than 3 distinct request names" in event.message
    assert "e.g. GET /orders/3, GET /orders/2, GET /orders/1" in event.message
    assert f"counted under {OVERFLOW_NAME!r}" in event.message
    assert "pass name= in the locustfile" in event.message


def test_names_an_sla_judges_are_never_folded_and_take_no_place() -> None:
    judged = ["POST /orders", "/products/[id]"]  # with a method, and a name alone
    rec = recorder(FakeClock(200.0), max_endpoints=2, judged_endpoints=judged)
    for i in range(1000):  # a locustfile that forgets name= first...
        fire(rec, 100.1, 10, name=f"/orders/{i}")
    fire(rec, 100.2, 10, name="/orders", method="POST")  # ...then the names the gate judges
    fire(rec, 100.3, 10, name="/products/[id]", method="GET")
    fire(rec, 100.4, 10, name="/products/[id]", method="PUT")
    fire(rec, 100.5, 10, name="/orders", method="GET")  # not judged: that method only
    counts = {(r[1], r[2]): r[3] for r in rec.collect(final=True)["requests"]}
    assert counts == {
        ("GET", "/orders/0"): 1,
        ("GET", "/orders/1"): 1,
        ("GET", OVERFLOW_NAME): 999,
        ("POST", "/orders"): 1,
        ("GET", "/products/[id]"): 1,
        ("PUT", "/products/[id]"): 1,
    }
    assert rec.requests_folded == 999
