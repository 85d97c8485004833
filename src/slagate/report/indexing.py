"""``reports/index.html``: every run of a reports folder, and each SLA's value across runs.

The view (``build_index``) is pure: built from the ``RunEntry`` list alone. The page lists
every run folder with its scenario, start, status, exit code and links to its report and
summary (a damaged folder with what is wrong with it), then one chart per SLA (per
scenario): its measured value in each judged run against its threshold, so a drift shows
before it fails. plotly.js is written once beside the page (``plotly-basic.min.js``), not
inlined: the index is rewritten after every run, and a history of 50 runs would otherwise
carry 50 copies. Escaping as in the run report: Jinja autoescape for text, ``figure_json``
for figures and ``plotly_text`` for every name inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slagate.errors import TimelineError
from slagate.files import write_atomically
from slagate.report.figures import Figure, plotly_text
from slagate.report.history import RunEntry
from slagate.report.rendering import PLOTLY_BUNDLE, plotly_bundle, render_template
from slagate.sla.verdict import NEVER, Status

INDEX = "index.html"
TEMPLATE = "index.html.j2"
STATUS_COLORS = {"pass": "#1a7f37", "fail": "#cf222e", "no-data": "#9a6700"}


@dataclass(frozen=True)
class RunRow:
    run_id: str
    scenario: str
    started_utc: str
    status: str
    exit_code: str  # "0".."3", "-" when not judged
    status_class: str  # pass | fail | nodata, for the CSS
    verdicts: str  # "5 pass, 1 fail"
    report: str  # link targets relative to index.html; "" when the file is absent
    summary: str
    damaged: str


@dataclass(frozen=True)
class SlaChart:
    key: str
    title: str
    figure: Figure


@dataclass(frozen=True)
class IndexView:
    reports_dir: str
    runs: tuple[RunRow, ...]
    charts: tuple[SlaChart, ...]


def write_index(reports_dir: Path, entries: tuple[RunEntry, ...]) -> Path:
    """Write ``reports_dir/index.html`` and the plotly.js file it loads; returns its path."""
    html = render_index(build_index(str(reports_dir), entries))
    script = reports_dir / PLOTLY_BUNDLE
    bundle = plotly_bundle()
    try:
        if not script.exists() or script.read_text("utf-8") != bundle:
            write_atomically(script, bundle)
        path = reports_dir / INDEX
        write_atomically(path, html)
    except OSError as e:
        raise TimelineError(f"cannot write {reports_dir / INDEX}: {e.strerror or e}") from e
    return path


def build_index(reports_dir: str, entries: tuple[RunEntry, ...]) -> IndexView:
    """The page's view: runs newest first, charts by scenario then SLA id."""
    runs = tuple(run_row(e) for e in reversed(entries))
    return IndexView(reports_dir, runs, sla_charts(entries))


def run_row(entry: RunEntry) -> RunRow:
    code = entry.exit_code
    summary = entry.summary
    tally = [v.status.value for v in summary.verdicts] if summary else []
    verdicts = ", ".join(f"{tally.count(s.value)} {s.value}" for s in Status if s.value in tally)
    return RunRow(
        run_id=entry.run_id,
        scenario=entry.scenario_name or "-",
        started_utc=_utc(entry.started_ms),
        status=str(entry.info.status) if entry.info else "damaged",
        exit_code="-" if code is None else str(int(code)),
        status_class="nodata" if code is None else "pass" if code == 0 else "fail",
        verdicts=verdicts or "-",
        report=f"{entry.run_id}/report.html" if (entry.run_dir / "report.html").exists() else "",
        summary=f"{entry.run_id}/summary.json" if summary else "",
        damaged=entry.damaged,
    )


def sla_charts(entries: tuple[RunEntry, ...]) -> tuple[SlaChart, ...]:
    """One chart per (scenario, SLA id) judged in at least one run, oldest run first."""
    points: dict[tuple[str, str], list[tuple[RunEntry, Any]]] = {}
    for entry in entries:
        for v in entry.summary.verdicts if entry.summary else ():
            points.setdefault((entry.scenario_name, v.id), []).append((entry, v))
    charts = []
    for i, ((scenario, sla_id), series) in enumerate(sorted(points.items())):
        title = f"{scenario}: {sla_id}" if scenario else sla_id
        charts.append(SlaChart(f"sla-{i}", title, _sla_figure(series)))
    return tuple(charts)


def _sla_figure(series: list[tuple[RunEntry, Any]]) -> Figure:
    x = [plotly_text(e.run_id) for e, _ in series]
    unit = series[-1][1].unit
    measured = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "measured",
        "x": x,
        "y": [v.measured for _, v in series],
        "marker": {"color": [STATUS_COLORS[v.status.value] for _, v in series], "size": 9},
        "line": {"color": "#4c78a8", "width": 1.5},
        "hovertext": [plotly_text(_hover(e, v)) for e, v in series],
        "hoverinfo": "text",
    }
    threshold = {
        "type": "scatter",
        "mode": "lines",
        "name": "threshold",
        "x": x,
        "y": [v.threshold if v.unit == unit else None for _, v in series],
        "line": {"color": "#cf222e", "dash": "dash", "shape": "hv", "width": 1},
    }
    layout = {
        "height": 260,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 90},
        "xaxis": {"type": "category", "tickangle": -30, "automargin": True},
        "yaxis": {"title": {"text": plotly_text(unit)}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},  # above the plot
        "hovermode": "closest",
        "plot_bgcolor": "#ffffff",
    }
    return {"data": [measured, threshold], "layout": layout}


def _hover(entry: RunEntry, v: Any) -> str:
    value = NEVER if v.never else v.measured_text
    return f"{entry.run_id}: {v.status.value}, {value} vs {v.threshold_text}"


def render_index(view: IndexView) -> str:
    return render_template(TEMPLATE, "the history index", view=view, plotly_src=PLOTLY_BUNDLE)


def _utc(t_ms: int | None) -> str:
    if t_ms is None:
        return "-"
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
