"""The distributed load's plan (options -> the load child's arguments) and roster."""

from __future__ import annotations

import pytest

from slagate.errors import ConfigError
from slagate.load.workforce import MISSED_HEARTBEATS, QUIT, Distribution, WorkerRoster


def test_one_process_adds_no_arguments() -> None:
    assert Distribution().argv() == []
    assert not Distribution().distributed


def test_local_workers_listen_on_loopback_any_port() -> None:
    plan = Distribution(local_workers=2)
    plan.check()
    assert (plan.listen_host, plan.listen_port, plan.expected) == ("127.0.0.1", 0, 2)
    assert plan.gathering_s == 120.0  # their own start, then the wait for the others
    assert plan.argv() == [
        "--workers", "2", "--expect-workers", "2", "--expect-workers-max-wait", "60",
    ]  # fmt: skip


def test_a_master_listens_like_locust_and_counts_local_workers_toward_expected() -> None:
    plan = Distribution(local_workers=1, expect_workers=3, master=True, wait_s=5)
    plan.check()
    assert Distribution(expect_workers=3, master=True, wait_s=5).gathering_s == 5.0
    assert plan.argv() == [
        "--workers", "1", "--expect-workers", "3", "--expect-workers-max-wait", "5",
        "--master", "--master-bind-host", "*", "--master-port", "5557",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        pytest.param(
            Distribution(local_workers=2, expect_workers=3),
            "--expect-workers 3 waits for 1 worker(s) besides the 2 local ones: add --master",
            id="remote-workers-without-master",
        ),
        pytest.param(
            Distribution(master=True),
            "--master: say how many workers to wait for with --expect-workers N",
            id="master-expecting-nobody",
        ),
        pytest.param(
            Distribution(local_workers=-1), "--workers -1: expected 0 to 64", id="negative"
        ),
        pytest.param(
            Distribution(master=True, expect_workers=1, port=70000),
            "--master-port 70000: expected a port from 1 to 65535",
            id="port",
        ),
        pytest.param(
            Distribution(local_workers=1, port=6000),
            "--master-bind-host and --master-port only apply with --master",
            id="port-without-master",
        ),
        pytest.param(
            Distribution(local_workers=1, wait_s=0),
            "--expect-workers-max-wait 0: expected seconds above 0",
            id="no-wait",
        ),
    ],
)
def test_combinations_that_cannot_run_name_the_option(plan: Distribution, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        plan.check()
    assert message in str(raised.value)


def test_roster_waits_for_each_active_workers_last_report() -> None:
    roster = WorkerRoster()
    assert roster.join("a") and roster.join("b") and not roster.join("a")
    roster.report("a", final=False)
    assert roster.awaiting_final == ["a", "b"]
    roster.report("a", final=True)
    assert roster.awaiting_final == ["b"]
    assert roster.lose("b", "gone") and not roster.lose("b", "again")
    assert roster.awaiting_final == [] and roster.active == ["a"]
    assert roster.lost == {"b": "gone"}


def test_roster_finds_each_loss_once_with_how() -> None:
    roster = WorkerRoster()
    for worker in ("a", "b", "c"):
        roster.join(worker)
    assert roster.losses({"a": False, "b": True}) == [("b", MISSED_HEARTBEATS), ("c", QUIT)]
    assert roster.losses({"a": False}) == []
    assert roster.joined == ["a", "b", "c"] and roster.active == ["a"]
