"""The terminal prints outside text literally: no markup, no raw control characters."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from slagate.errors import ExitCode, PreflightError
from slagate.lifecycle import RunResult
from slagate.report.sweep import CellRecord, SweepRecord
from slagate.sla.crosscheck import CrossCheck
from slagate.sla.live import LiveState, LiveStatus
from slagate.sla.verdict import Status, Verdict
from slagate.terminal import TerminalView, render_error, render_sweep, render_verdicts
from slagate.timeline import RunStatus

HOSTILE = "[bold red]MARKUP[/] [link=http://x/]L[/link] \x1b[31mRED\x00\x9b\x07 \u202eevil"
SHOWN = "[bold red]MARKUP[/] [link=http://x/]L[/link] \\x1b[31mRED\\x00\\x9b\\x07 \\u202eevil"


def _console(terminal: bool = False) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=400, force_terminal=terminal, color_system=None), out


def test_verdicts_notes_and_cross_checks_print_outside_text_literally() -> None:
    verdict = Verdict("a", "availability", Status.FAIL, 1.0, 99.0, HOSTILE, HOSTILE, "%")
    check = CrossCheck("a", HOSTILE, 10, 0.1, 0.5, 0.01, HOSTILE)
    result = RunResult(
        Path("reports/r"), ExitCode.FAILED, RunStatus.COMPLETED, (verdict,), HOSTILE, (check,)
    )
    console, out = _console()

    render_verdicts(console, result)

    text = out.getvalue()
    assert [c for c in "\x1b\x00\x9b\x07\u202e" if c in text] == []
    assert text.count(SHOWN) == 4  # window column, message, cross-check note, outcome note
    assert f"({SHOWN})" in text


def test_steps_and_errors_print_outside_text_literally() -> None:
    console, out = _console(terminal=True)  # a terminal: rich's own styles are escapes too

    TerminalView(console).say(HOSTILE)
    render_error(console, PreflightError(HOSTILE))

    plain = out.getvalue()
    assert "\x00" not in plain and "\x9b" not in plain and "\u202e" not in plain
    assert "\x1b[31mRED" not in plain
    assert plain.count(SHOWN) == 2


def test_the_live_table_has_the_verdict_layout_and_the_stopping_sla_is_marked() -> None:
    breached = Verdict("guard", "failed_requests", Status.FAIL, 6.0, 5.0, "load [0.0 s, 9.0 s]",
                       "failed requests 6 > 5", "requests")  # fmt: skip
    live = LiveStatus("guard", LiveState.BREACHED, breached, breached.measured_text, stops=True)
    console, out = _console()
    view = TerminalView(console)  # not a terminal: printed as it changes

    view.live_slas([live])
    view.live_slas([live])  # unchanged within PLAIN_EVERY_S: not printed again
    result = RunResult(
        Path("r"), ExitCode.FAILED, RunStatus.ABORTED, (breached,), "SLA guard breached", (),
        stopped_by="guard",
    )  # fmt: skip
    render_verdicts(console, result)

    text = out.getvalue()
    live_row = "│ guard │ breached │ 6 requests │ 5 requests │ load [0.0 s, 9.0 s] │"
    assert text.count(live_row) == 1
    assert "│ guard │ fail, stopped the run │ 6 requests │ 5 requests │" in text
    assert "guard stopped the run (abort_on_fail): SLA guard breached" in text


def test_a_sweep_shows_slas_by_cell_the_sentences_and_the_outcome() -> None:
    console, out = _console()
    sla = "[red]rolling"  # from the scenario: printed as written, never as markup
    passed = Verdict(sla, "failed_requests", Status.PASS, 0.0, 0.0, "rollout", "ok", "requests")
    failed = Verdict(
        sla, "failed_requests", Status.FAIL, 8.0, 0.0, "rollout", "8 failed", "requests"
    )
    cells = (
        CellRecord((("delay", "1s"),), "cell-01", ExitCode.PASSED, (passed,)),
        CellRecord((("delay", "5s"),), "cell-02", ExitCode.FAILED, (failed,)),
        CellRecord((("delay", "9s"),), "cell-03", ExitCode.COULD_NOT_RUN, note="no Service"),
    )
    render_sweep(console, Path("reports/sw"), SweepRecord("s", "s.yaml", cells, 3))
    text = out.getvalue()
    assert "pass 0 requests" in text
    assert "fail 8 requests" in text
    assert "[red]rolling holds at delay=1s; fails at delay=5s: 8 failed; has no verdict at " in text
    assert "cell 3: COULD NOT RUN exit 2: no Service" in text
    assert text.rstrip().endswith("COULD NOT RUN  exit 2  3/3 cells  sweep reports/sw")
