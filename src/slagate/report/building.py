"""The report's view model: what the HTML report shows, built from a run's timeline.

Pure: no I/O, no clock reads. Only the run.json fields named in ``Header`` are read,
and of the scenario its PromQL SLAs (``promql_charts`` says which of their fields); never
``services``, ``scenario_path``, ``cluster`` or the scenario's ``prometheus`` block: a
kubeconfig path, a header value or a token must never reach a report. Strings here are
raw text; the renderer escapes them (Jinja autoescape) and the figures escape their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from slagate.errors import ExitCode
from slagate.report.comparison import Comparison
from slagate.report.figures import Chart, axis_of, charts_of, decor_of
from slagate.report.promql_charts import promql_charts
from slagate.report.summary import Summary
from slagate.scenario import shown_url
from slagate.sla.crosscheck import CrossCheck
from slagate.sla.formatting import count
from slagate.sla.live import STOPPED_THE_RUN
from slagate.sla.verdict import Status, Verdict
from slagate.sla.windows import anchors_of
from slagate.timeline import EventKind, PrometheusInfo, RunInfo, Timeline

EXIT_MEANINGS = {
    ExitCode.PASSED: "pass: every SLA passed",
    ExitCode.FAILED: "fail: an SLA failed or had no data",
    ExitCode.COULD_NOT_RUN: "could not run",
    ExitCode.ABORTED: "aborted: stopped early; what was recorded was judged",
}
STATUS_CLASSES = {Status.PASS: "pass", Status.FAIL: "fail", Status.NO_DATA: "nodata"}
OPTIONAL_NO_DATA = "no-data (optional)"
CROSS_CHECK_CLASSES = {"agree": "pass", "differ": "fail", "not compared": "nodata"}
SOURCES = {
    "sandbox": "the sandbox's Prometheus",
    "option": "--prometheus-url",
    "scenario": "the scenario's prometheus.url",
}
EVIDENCE_MAX = 50  # per verdict; summary.json keeps them all
WARNING_KINDS = (
    EventKind.NAMES_FOLDED,
    EventKind.WORKER_LOST,
    EventKind.WATCH_GAP,
    EventKind.API_SLOW,
)
"""Harness events the report shows as warnings above the verdicts: the recording itself
was limited (request names folded; the cluster's transitions received late, after a
watch gap or while the API server was slow), and the message says how."""


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
    prometheus_url: str = ""
    """The Prometheus the server-side series came from, without user info or query;
    empty when the run fetched none."""

    prometheus_origin: str = ""
    """How that Prometheus was chosen, and the step: ``from --prometheus-url, step 15 s``."""

    data_plane: str = ""
    """The sandbox's data-plane profile the run went through; empty off the sandbox."""


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
class CrossCheckRow:
    """Locust's failure ratio beside the server side's error ratio, as the report prints them."""

    sla_id: str
    window: str
    client_ratio: str
    client_requests: str
    server_ratio: str
    difference: str  # server minus client, in percentage points
    tolerance: str
    note: str
    verdict: str  # agree | differ | not compared
    verdict_class: str  # pass | fail | nodata, for the CSS
    flagged: bool  # the row is marked


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
    cross_checks: tuple[CrossCheckRow, ...] = ()
    warnings: tuple[EvidenceRow, ...] = ()
    rollbacks: tuple[EvidenceRow, ...] = ()
    """Rollouts undone because the run failed or was stopped, when and how it went."""
    comparison: Comparison | None = None
    """The run beside its baseline (``slagate compare``, ``--baseline``), when compared."""


def build_report(
    timeline: Timeline, summary: Summary | None, comparison: Comparison | None = None
) -> ReportView:
    """The view of a run; ``summary`` is None for a run not judged yet, ``comparison``
    for a run never compared with a baseline."""
    info = timeline.info
    windows = windows_of(info)
    anchors = anchors_of(timeline)
    axis = axis_of(timeline, anchors.origin_ms, windows.get("run"))
    decor = decor_of(timeline, windows, axis)
    return ReportView(
        header=header_of(info, summary),
        verdicts=tuple(verdict_row(v, summary.stopped_by) for v in summary.verdicts)
        if summary
        else (),
        windows=tuple(WindowRow(b.name, b.start_s, b.end_s) for b in decor.bands),
        axis_title=axis.title,
        charts=charts_of(timeline, axis, decor) + promql_charts(timeline, anchors, axis, decor),
        cross_checks=tuple(cross_check_row(c) for c in summary.cross_checks) if summary else (),
        warnings=warnings_of(timeline),
        rollbacks=tuple(EvidenceRow(_utc(r.start_ms), r.describe()) for r in summary.rollbacks)
        if summary
        else (),
        comparison=comparison,
    )


def warnings_of(timeline: Timeline) -> tuple[EvidenceRow, ...]:
    """The harness events of ``WARNING_KINDS``, in time order, as time and text."""
    events = timeline.harness_events()
    shown = events[events["kind"].isin(WARNING_KINDS)]
    rows = zip(shown["t_ms"], shown["kind"], shown["name"], shown["message"], strict=True)
    return tuple(
        EvidenceRow(
            _utc(int(t_ms)),
            f"{kind}{f' {name}' if isinstance(name, str) and name else ''}: {message}",
        )
        for t_ms, kind, name, message in rows
    )


def header_of(info: RunInfo, summary: Summary | None) -> Header:
    exit_code = summary.exit_code if summary is not None else None
    return Header(
        scenario_name=info.scenario_name or "",
        run_id=info.run_id,
        status=str(summary.status if summary is not None else info.status),
        exit_code=exit_code,
        exit_meaning=_exit_meaning(summary),
        started_utc=_utc(info.started_ms),
        ended_utc=_utc(info.ended_ms),
        host=shown_url(info.host or ""),
        versions=tuple(sorted(info.versions.items())),
        note=summary.note if summary is not None else "",
        prometheus_url=shown_url(info.prometheus.url) if info.prometheus else "",
        prometheus_origin=_origin(info.prometheus),
        data_plane=(info.cluster.data_plane or "") if info.cluster else "",
    )


def _exit_meaning(summary: Summary | None) -> str:
    """What the exit code means; a pass says which optional SLAs it passed without data."""
    if summary is None:
        return "not judged yet: run `slagate check`"
    unmeasured = [v.id for v in summary.verdicts if v.status is Status.NO_DATA and v.optional]
    if summary.exit_code is ExitCode.FAILED and summary.stopped_by is not None:
        return f"fail: SLA {summary.stopped_by} was breached and stopped the run (abort_on_fail)"
    if summary.exit_code is ExitCode.PASSED and unmeasured:
        names = ", ".join(unmeasured)
        return f"pass: every required SLA passed; no data for the optional {names} (not a failure)"
    return EXIT_MEANINGS[summary.exit_code]


def _origin(prometheus: PrometheusInfo | None) -> str:
    if prometheus is None:
        return ""
    source = SOURCES.get(prometheus.source, prometheus.source)
    return f"from {source}, step {prometheus.step_s:g} s"


def verdict_row(v: Verdict, stopped_by: str | None = None) -> VerdictRow:
    """One verdict as the report shows it; the SLA that stopped the run says so."""
    shown = v.evidence[:EVIDENCE_MAX] if v.status is not Status.PASS else ()
    optional_no_data = v.status is Status.NO_DATA and v.optional
    status = OPTIONAL_NO_DATA if optional_no_data else v.status.value
    return VerdictRow(
        id=v.id,
        status=status + (f", {STOPPED_THE_RUN}" if v.id == stopped_by else ""),
        status_class="optional" if optional_no_data else STATUS_CLASSES[v.status],
        measured=v.measured_text,
        threshold=v.threshold_text,
        window=v.window,
        message=v.message,
        evidence=tuple(EvidenceRow(_utc(e.t_ms), e.text) for e in shown),
        evidence_omitted=len(v.evidence) - len(shown) if v.status is not Status.PASS else 0,
    )


def cross_check_row(c: CrossCheck) -> CrossCheckRow:
    difference = _difference(c.client_ratio, c.server_ratio)
    verdict = "differ" if c.flagged else "agree" if difference != "-" else "not compared"
    return CrossCheckRow(
        sla_id=c.sla_id,
        window=c.window,
        client_ratio=_percent(c.client_ratio),
        client_requests=count(c.client_requests),
        server_ratio=_percent(c.server_ratio),
        difference=difference,
        tolerance=f"{100 * c.tolerance:g} pp",
        note=c.note,
        verdict=verdict,
        verdict_class=CROSS_CHECK_CLASSES[verdict],
        flagged=c.flagged,
    )


def windows_of(info: RunInfo) -> dict[str, tuple[int, int]]:
    """run.json ``windows`` as ``{name: (start_ms, end_ms)}``, empty spans left out."""
    return {
        name: (span.start_ms, span.end_ms)
        for name, span in info.windows.items()
        if span.end_ms > span.start_ms
    }


def _percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{100 * ratio:.2f} %"


def _difference(client: float | None, server: float | None) -> str:
    """Server minus client in percentage points: positive when the server counted more."""
    if client is None or server is None:
        return "-"
    return f"{100 * (server - client):+.2f} pp"


def _utc(t_ms: int | None) -> str:
    if t_ms is None:
        return "-"
    moment = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(t_ms) % 1000:03d} UTC"
