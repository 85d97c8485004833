"""The HTML SLA report of a run folder (``report.html``): header, verdicts, the client-side
vs server-side cross-checks, charts.

``building``, ``figures`` and ``promql_charts`` are pure (timeline + verdicts -> view model
and figure JSON); ``rendering`` writes the file.
"""

from __future__ import annotations

from slagate.report.building import ReportView, build_report
from slagate.report.rendering import REPORT, render_report, write_report

__all__ = ["REPORT", "ReportView", "build_report", "render_report", "write_report"]
