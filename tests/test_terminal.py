"""The terminal prints outside text literally: no markup, no raw control characters."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from slagate.errors import ExitCode, PreflightError
from slagate.lifecycle import RunResult
from slagate.sla.crosscheck import CrossCheck
from slagate.sla.verdict import Status, Verdict
from slagate.terminal import TerminalView, render_error, render_verdicts
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
