"""Judging a plain-Locust experiment (``locust -f ... --scenario FILE``) at its end.

``slagate run`` judges in the controller; when Locust itself ran the scenario, the plugin
judges here, after the final flush, and Locust exits with the verdicts' exit code.
"""

from __future__ import annotations

import logging
from pathlib import Path

from slagate.scenario import Scenario
from slagate.sla.judging import exit_code_for, judge
from slagate.sla.summary import write_summary
from slagate.sla.windows import resolve_all_windows
from slagate.timeline import load_timeline, update_run_info

logger = logging.getLogger(__name__)


def judge_run(scenario: Scenario, run_dir: Path, aborted: bool, note: str = "") -> int:
    """Judge the run folder, write summary.json and the resolved windows; the exit code."""
    timeline = load_timeline(run_dir)
    verdicts = judge(scenario, timeline)
    exit_code = exit_code_for(verdicts, aborted=aborted)
    update_run_info(run_dir, windows=resolve_all_windows(scenario, timeline))
    status = "aborted" if aborted else "completed"
    write_summary(run_dir, verdicts, exit_code, status=status, note=note)
    for verdict in verdicts:
        logger.info("slagate: %-7s %s: %s", verdict.status.value, verdict.id, verdict.message)
    logger.info("slagate: exit code %d, summary in %s", exit_code, run_dir / "summary.json")
    return exit_code
