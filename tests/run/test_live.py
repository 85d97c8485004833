"""The controller's live feed and judge (slagate.run.live), on a real run folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from slagate.lifecycle import begin_run
from slagate.load.progress import RowsUpdate
from slagate.run.live import LiveFeed, LiveJudge
from slagate.sla.live import LiveState, LiveStatus
from slagate.timeline import (
    EventKind,
    EventRow,
    EventSource,
    LatencyRow,
    RequestRow,
    Table,
    TableWriter,
    append_rows,
    read_run_info,
    read_table,
)
from tests.sla.timelines import T0, T0_S, deploy, scenario

SLAS = [
    {"id": "budget", "kind": "failed_requests", "max": 2, "abort_on_fail": True},
    {"id": "ceiling", "kind": "max_replicas", "deployment": "order", "max": 3},
]


def request(second: int, requests: int, failures: int = 0) -> RequestRow:
    return RequestRow(T0_S + second, "GET", "/o", requests, failures, 1.0, 1.0, 1.0, 1.0, 1.0, "l")


def update(final: bool, through: int | None, *rows: RequestRow) -> RowsUpdate:
    latency = tuple(LatencyRow(r.t_s, r.method, r.name, 10, r.requests, "l") for r in rows)
    return RowsUpdate(final, through, {Table.REQUESTS: rows, Table.LATENCY: latency})


class Shown:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.tables: list[Sequence[LiveStatus]] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def load_progress(self, status: Any, planned_s: float) -> None:
        pass

    def live_slas(self, statuses: Sequence[LiveStatus]) -> None:
        self.tables.append(statuses)

    def load_done(self) -> None:
        pass


def feed_in(run_dir: Path) -> LiveFeed:
    begin_run(
        run_dir, started_ms=T0 - 1000, scenario=scenario(SLAS), scenario_path=None,
        host="http://127.0.0.1:1", services={},
    )  # fmt: skip
    feed = LiveFeed(run_dir, read_run_info(run_dir))
    feed.event(EventRow(T0, EventSource.HARNESS, EventKind.LOAD_START, "", ""))
    return feed


def test_provisional_seconds_give_way_to_the_collected_rows_and_read_like_the_folder(
    tmp_path: Path,
) -> None:
    feed = feed_in(tmp_path)
    feed.rows(update(False, T0_S, request(0, 5)))
    feed.rows(update(False, T0_S + 1, request(1, 7, 1)))
    assert feed.timeline().requests["requests"].sum() == 12
    # collected: second 0 had a late request; 1 is not collected yet, its provisional stays
    collected = update(True, T0_S, request(0, 6))
    feed.rows(collected)
    assert sorted(feed.timeline().requests["requests"]) == [6, 7]
    last = update(True, None, request(1, 8, 1))
    feed.rows(last)
    feed.rows(update(False, T0_S + 1, request(1, 99)))  # late provisional: ignored
    live = feed.timeline()
    # the same rows written as the load child writes them read back identically
    writer = TableWriter(tmp_path / "elsewhere", "load")
    for u in (collected, last):
        for table, rows in u.rows.items():
            writer.append(table, rows)
    writer.flush()
    for table in (Table.REQUESTS, Table.LATENCY):
        kept = read_table(tmp_path / "elsewhere", table)
        pd.testing.assert_frame_equal(live.table(table).reset_index(drop=True), kept)


def test_the_controllers_own_parts_join_in_but_not_the_load_childs(tmp_path: Path) -> None:
    feed = feed_in(tmp_path)
    append_rows(tmp_path, "kube-deployments", Table.REPLICAS, [deploy(500, 4, 4)])
    append_rows(tmp_path, "load", Table.REQUESTS, [request(0, 1000)])  # came by the stream
    feed.rows(update(True, T0_S + 1, request(0, 3), request(1, 3)))
    live = feed.timeline()
    assert live.requests["requests"].sum() == 6
    assert list(live.replicas["desired"]) == [4]
    assert set(live.events["kind"]) == {EventKind.RUN_START, EventKind.LOAD_START}


def test_the_judge_shows_a_table_a_second_and_names_the_sla_that_must_stop(
    tmp_path: Path,
) -> None:
    view = Shown()
    judge = LiveJudge(scenario(SLAS), feed_in(tmp_path), view)
    judge.feed.rows(update(True, T0_S + 1, request(0, 10), request(1, 10, 3)))
    cause = judge.tick(T0 + 2100)
    assert judge.tick(T0 + 2600) is None  # within the second: not judged again
    assert len(view.tables) == 1
    assert [s.state for s in view.tables[0]] == [LiveState.BREACHED, LiveState.PENDING]
    assert cause is not None and cause[0].sla_id == "budget"


def test_a_judge_that_breaks_says_so_once_and_the_run_goes_on(tmp_path: Path) -> None:
    view = Shown()
    judge = LiveJudge(scenario(SLAS), feed_in(tmp_path), view)
    (tmp_path / "events" / "bad.parquet").write_text("not parquet")
    assert judge.tick(T0 + 2000) is None
    assert judge.tick(T0 + 5000) is None
    assert len(view.said) == 1 and "abort_on_fail is off" in view.said[0]
    assert view.tables == []


def test_between_tables_each_batch_is_judged_at_once_for_the_abort_on_fail_slas(
    tmp_path: Path,
) -> None:
    view = Shown()
    judge = LiveJudge(scenario(SLAS), feed_in(tmp_path), view, cpu_clock=lambda: 0.0)
    judge.feed.rows(update(False, T0_S, request(0, 10)))
    assert judge.tick(T0 + 1050) is None  # the table, judged and shown
    assert judge.tick(T0 + 1100) is None  # no new rows: nothing judged
    judge.feed.rows(update(False, T0_S + 1, request(1, 10)))
    # the next ticks come within JUDGE_EVERY_MS of the table (as when CPU_SHARE spaces
    # the tables out): each batch is judged for the abort_on_fail SLA alone
    assert judge.tick(T0 + 1400) is None  # nothing breached: nothing shown
    judge.feed.rows(update(False, T0_S + 2, request(2, 10, 3)))
    cause = judge.tick(T0 + 1500)
    assert cause is not None and cause[0].sla_id == "budget"
    assert len(view.tables) == 2  # the first table, then the breach that stops the run
    assert [s.state for s in view.tables[1]] == [LiveState.BREACHED, LiveState.PENDING]
    assert cause[1].window_end_ms == T0 + 3000  # the data the stop was judged on


def test_a_guard_judgement_past_the_cpu_share_spaces_the_next_ones(tmp_path: Path) -> None:
    cpu = CpuClock(step_s=0.08)  # each judgement costs 80 ms: 2 s at a 4 % share
    judge = LiveJudge(scenario(SLAS), feed_in(tmp_path), Shown(), cpu_clock=cpu)
    judge.feed.rows(update(False, T0_S, request(0, 10)))
    judge.tick(T0 + 1050)  # the table: the next one not before 2 s + 2 s (its and a guard's)
    assert judge.every_ms == 2000
    judged = cpu.calls
    judge.feed.rows(update(False, T0_S + 1, request(1, 10)))
    judge.tick(T0 + 2050)  # a guard
    assert judge.every_ms == 4000
    judge.feed.rows(update(False, T0_S + 2, request(2, 10, 3)))
    assert judge.tick(T0 + 3050) is None  # within 2 s of the guard: not judged
    assert cpu.calls == judged + 2
    cause = judge.tick(T0 + 4100)  # 2 s after the guard: the breach is seen
    assert cause is not None and cause[0].sla_id == "budget"


class CpuClock:
    """CPU seconds that advance ``step_s`` per judgement (two reads each)."""

    def __init__(self, step_s: float) -> None:
        self.step_s = step_s
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return (self.calls // 2) * self.step_s
