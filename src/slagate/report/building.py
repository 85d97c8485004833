"""The report's view model: what the HTML report shows, built from a run's timeline.

Pure: no I/O, no clock reads. Only the run.json fields named in ``Header`` are read
(never ``scenario``, ``services``, ``scenario_path`` or anything a future version adds:
a kubeconfig path or a token must never reach a report). Strings here are raw text;
the renderer escapes them (Jinja autoescape) and the figures escape their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from slagate.report.figures import Chart, axis_of, charts_of, decor_of
from slagate.sla.summary import Summary
from slagate.sla.verdict import Status, Verdict
from slagate.sla.windows import anchors_of
from slagate.timeline import Timeline

EXIT_MEANINGS = {
    0: "pass: every SLA passed",
    1: "fail: an SLA failed or had no data",
    2: "could not run",
    3: "aborted: stopped early; what was recorded was judged",
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


def header_of(info: Mapping[str, Any], summary: Summary | None) -> Header:
    exit_code = summary.exit_code if summary is not None else None
    status = summary.extra.get("status") if summary is not None else None
    meaning = "not judged yet: run `slagate check`" if exit_code is None else ""
    return Header(
        scenario_name=_text(info.get("scenario_name")),
        run_id=_text(info.get("run_id")),
        status=_text(status or info.get("status")),
        exit_code=exit_code,
        exit_meaning=EXIT_MEANINGS.get(exit_code, "unknown") if exit_code is not None else meaning,
        started_utc=_utc(info.get("started_ms")),
        ended_utc=_utc(info.get("ended_ms")),
        host=_without_credentials(_text(info.get("host"))),
        versions=_versions(info.get("versions")),
        note=_text(summary.extra.get("note")) if summary is not None else "",
    )


def verdict_row(v: Verdict) -> VerdictRow:
    shown = v.evidence[:EVIDENCE_MAX] if v.status is not Status.PASS else ()
    return VerdictRow(
        id=v.id,
        status=v.status.value,
        status_class=STATUS_CLASSES[v.status],
        measured=_value(v.measured, v.unit),
        threshold=_value(v.threshold, v.unit),
        window=v.window,
        message=v.message,
        evidence=tuple(EvidenceRow(_utc(e.t_ms), e.text) for e in shown),
        evidence_omitted=len(v.evidence) - len(shown) if v.status is not Status.PASS else 0,
    )


def windows_of(info: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """run.json ``windows`` as ``{name: (start_ms, end_ms)}``, malformed entries left out."""
    raw = info.get("windows")
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for name, span in raw.items():
        if isinstance(span, Mapping):
            start, end = _ms(span.get("start_ms")), _ms(span.get("end_ms"))
            if start is not None and end is not None and end > start:
                out[str(name)] = (start, end)
    return out


def _ms(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _utc(t_ms: object) -> str:
    if isinstance(t_ms, bool) or not isinstance(t_ms, int | float):
        return "-"
    moment = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(t_ms) % 1000:03d} UTC"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _versions(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _without_credentials(url: str) -> str:
    """The target URL without user:password and query (either may hold a secret)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()
