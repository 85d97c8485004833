"""The report's view model: what the HTML report shows, built from a run's timeline.

Pure: no I/O, no clock reads. Only the run.json fields named in ``Header`` are read
(never ``scenario``, ``services``, ``scenario_path`` or ``cluster``: a kubeconfig path or
a token must never reach a report). Strings here are raw text;
the renderer escapes them (Jinja autoescape) and the figures escape their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from slagate.errors import ExitCode
from slagate.report.figures import Chart, axis_of, charts_of, decor_of
from slagate.report.summary import Summary
from slagate.sla.verdict import Status, Verdict
from slagate.sla.windows import anchors_of
from slagate.timeline import RunInfo, Timeline

EXIT_MEANINGS = {
    ExitCode.PASSED: "pass: every SLA passed",
    ExitCode.FAILED: "fail: an SLA failed or had no data",
    ExitCode.COULD_NOT_RUN: "could not run",
    ExitCode.ABORTED: "aborted: stopped early; what was recorded was judged",
}
STATUS_CLASSES = {Status.PASS: "pass", Status.FAIL: "fail", Status.NO_DATA: "nodata"}
EVIDENCE_MAX = 50  # per verdict; summary.json keeps them all


@dataclass(frozen=True)
class Header:
    scenario_name: str
    run_id: str
    status: str  # completed | aborted | running | failed
    exit_code: int | None  # None: not judged yet
    exit_meaning: str
    started_utc: str
    ended_utc: str
    host: str
    versions: tuple[tuple[str, str], ...]
    note: str


@dataclass(frozen=True)
class EvidenceRow:
    utc: str
    text: str


@dataclass(frozen=True)
class VerdictRow:
    id: str
    status: str
    status_class: str  # pass | fail | nodata, for the CSS
    measured: str
    threshold: str
    window: str
    message: str
    evidence: tuple[EvidenceRow, ...]
    evidence_omitted: int


@dataclass(frozen=True)
class WindowRow:
    name: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ReportView:
    header: Header
    verdicts: tuple[VerdictRow, ...]
    windows: tuple[WindowRow, ...]
    axis_title: str
    charts: tuple[Chart, ...]


def build_report(timeline: Timeline, summary: Summary | None) -> ReportView:
    """The view of a run; ``summary`` is None for a run not judged yet."""
    info = timeline.info
    windows = windows_of(info)
    anchors = anchors_of(timeline)
    axis = axis_of(timeline, anchors.origin_ms, windows.get("run"))
    decor = decor_of(timeline, windows, axis)
    return ReportView(
        header=header_of(info, summary),
        verdicts=tuple(verdict_row(v) for v in summary.verdicts) if summary else (),
        windows=tuple(WindowRow(b.name, b.start_s, b.end_s) for b in decor.bands),
        axis_title=axis.title,
        charts=charts_of(timeline, axis, decor),
    )


def header_of(info: RunInfo, summary: Summary | None) -> Header:
    exit_code = summary.exit_code if summary is not None else None
    return Header(
        scenario_name=info.scenario_name or "",
        run_id=info.run_id,
        status=str(summary.status if summary is not None else info.status),
        exit_code=exit_code,
        exit_meaning=(
            EXIT_MEANINGS[exit_code]
            if exit_code is not None
            else "not judged yet: run `slagate check`"
        ),
        started_utc=_utc(info.started_ms),
        ended_utc=_utc(info.ended_ms),
        host=_without_credentials(info.host or ""),
        versions=tuple(sorted(info.versions.items())),
        note=summary.note if summary is not None else "",
    )


def verdict_row(v: Verdict) -> VerdictRow:
    shown = v.evidence[:EVIDENCE_MAX] if v.status is not Status.PASS else ()
    return VerdictRow(
        id=v.id,
        status=v.status.value,
        status_class=STATUS_CLASSES[v.status],
        measured=v.measured_text,
        threshold=v.threshold_text,
        window=v.window,
        message=v.message,
        evidence=tuple(EvidenceRow(_utc(e.t_ms), e.text) for e in shown),
        evidence_omitted=len(v.evidence) - len(shown) if v.status is not Status.PASS else 0,
    )


def windows_of(info: RunInfo) -> dict[str, tuple[int, int]]:
    """run.json ``windows`` as ``{name: (start_ms, end_ms)}``, empty spans left out."""
    return {
        name: (span.start_ms, span.end_ms)
        for name, span in info.windows.items()
        if span.end_ms > span.start_ms
    }


def _utc(t_ms: int | None) -> str:
    if t_ms is None:
        return "-"
    moment = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(t_ms) % 1000:03d} UTC"


def _without_credentials(url: str) -> str:
    """The target URL without user:password and query (either may hold a secret)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
