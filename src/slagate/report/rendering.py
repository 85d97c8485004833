"""Render the report view to one self-contained HTML file, ``report.html`` in the run folder.

Jinja2 with autoescape on: every string of the view is escaped where it is written, after
its control characters are written as escapes (``printable``: a NUL or an ANSI escape from
the target shows as ``\\x00`` or ``\\x1b[31m``, never as a raw byte in the page).
Figures go in as JSON inside ``<script type="application/json">`` with ``</`` written
``<\\/`` (and ``<!--`` as ``\\u003c!--``), so no text from the target can close the script
element. plotly.js is inlined once, so the file opens offline: its "basic" partial bundle
(scatter traces are all slagate draws; 1.2 MB where the full bundle is 4.8 MB), vendored
in ``slagate/report/vendor`` with its licence.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jinja2
from markupsafe import Markup

from slagate.errors import TimelineError
from slagate.files import write_atomically
from slagate.report.building import ReportView, build_report
from slagate.report.comparison import read_comparison
from slagate.report.figures import Figure
from slagate.report.summary import SUMMARY, Summary, read_summary
from slagate.sla.formatting import printable
from slagate.timeline import Timeline, load_timeline

REPORT = "report.html"
TEMPLATE = "report.html.j2"
PLOTLY_BUNDLE = "plotly-basic.min.js"
"""plotly.js 4.1.1, basic partial bundle (npm ``plotly.js-basic-dist-min``)."""


def write_report(
    run_dir: Path, timeline: Timeline | None = None, summary: Summary | None = None
) -> Path:
    """Build and write ``run_dir/report.html`` atomically; returns its path.

    ``timeline`` and ``summary`` are read from the folder when not given (``summary.json``
    may be absent: the report then says the run was not judged yet); comparison.json,
    when the run was compared with a baseline, is always read from the folder.
    """
    run_dir = Path(run_dir)
    if timeline is None:
        timeline = load_timeline(run_dir)
    if summary is None and (run_dir / SUMMARY).exists():
        summary = read_summary(run_dir)
    html = render_report(build_report(timeline, summary, read_comparison(run_dir)))
    path = run_dir / REPORT
    write_atomically(path, html)
    return path


def render_report(view: ReportView, plotly_js: str | None = None) -> str:
    """The HTML text of ``view``; ``plotly_js`` defaults to the vendored bundle."""
    script = Markup(plotly_js or plotly_bundle())
    return render_template(TEMPLATE, "the report", view=view, plotly_js=script)


def render_template(template: str, what: str, **context: object) -> str:
    """Render ``templates/<template>`` with autoescape, ``printable_text`` on every value
    and the ``figure_json`` filter: the one way slagate writes HTML."""
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, finalize=printable_text
    )
    env.filters["figure_json"] = figure_json
    try:
        source = files("slagate.report").joinpath("templates", template).read_text("utf-8")
        return env.from_string(source).render(**context)
    except (OSError, ValueError, jinja2.TemplateError) as e:
        raise TimelineError(f"cannot render {what}: {e}") from e


def figure_json(figure: Figure) -> Markup:
    """``figure`` as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(figure, separators=(",", ":"), allow_nan=False)
    text = text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    return Markup(text)


def printable_text(value: object) -> object:
    """Each value a template writes, before autoescape: text made printable; markup the
    renderer made itself (the figures' JSON, plotly.js) left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def plotly_bundle() -> str:
    """The vendored plotly.js bundle's text (it holds no ``</script``: safe to inline)."""
    return files("slagate.report").joinpath("vendor", PLOTLY_BUNDLE).read_text("utf-8")
