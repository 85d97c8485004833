"""The ``workers`` verdict of a distributed run: lost workers fail it unless tolerated."""

from __future__ import annotations

from slagate.errors import ExitCode
from slagate.sla.judging import exit_code_for, judge
from slagate.sla.verdict import Status
from slagate.sla.workers import evaluate_workers
from tests.sla.timelines import ev, load_events, req, scenario, timeline

JOINED = [ev(0, "worker_joined", "w1"), ev(0, "worker_joined", "w2")]
TRAFFIC = [req(1, 40, worker="w1"), req(1, 35, worker="w2"), req(2, 41, worker="w1")]
LOST = ev(6_200, "worker_lost", "w2", "missed Locust's heartbeats for 3 s")


def test_a_single_process_run_has_no_workers_verdict() -> None:
    tl = timeline(events=load_events(), requests=[req(1, 40, worker="local")])
    assert evaluate_workers(tl, tolerate_loss=False) is None
    assert [v.id for v in judge(scenario([]), tl)] == []


def test_every_worker_reporting_passes_with_its_request_count() -> None:
    tl = timeline(events=load_events() + JOINED, requests=TRAFFIC)
    verdict = evaluate_workers(tl, tolerate_loss=False)
    assert verdict is not None
    assert verdict.status is Status.PASS
    assert verdict.measured == 0.0
    assert verdict.message == "all 2 workers reported to the end (w1: 81 requests; w2: 35 requests)"


def test_a_lost_worker_fails_the_gate_and_is_named_with_when() -> None:
    tl = timeline(events=[*load_events(), *JOINED, LOST], requests=TRAFFIC)
    verdicts = judge(scenario([]), tl)
    assert [v.id for v in verdicts] == ["workers"]
    (verdict,) = verdicts
    assert verdict.status is Status.FAIL
    assert verdict.measured == 1.0
    assert verdict.message.startswith("1 of 2 workers lost mid-run (w2; w1: 81 requests;")
    assert "load.tolerate_worker_loss: true" in verdict.message
    assert [e.text for e in verdict.evidence] == [
        "worker w2 lost at 6.2 s: missed Locust's heartbeats for 3 s"
    ]
    assert exit_code_for(verdicts, aborted=False) is ExitCode.FAILED


def test_a_tolerated_loss_passes_and_says_so() -> None:
    tolerant = scenario([])
    tolerant = tolerant.model_copy(
        update={"load": tolerant.load.model_copy(update={"tolerate_worker_loss": True})}
    )
    tl = timeline(events=[*load_events(), *JOINED, LOST], requests=TRAFFIC)
    (verdict,) = judge(tolerant, tl)
    assert verdict.status is Status.PASS
    assert verdict.measured == 1.0
    assert "tolerated (load.tolerate_worker_loss: true)" in verdict.message
    assert exit_code_for([verdict], aborted=False) is ExitCode.PASSED
