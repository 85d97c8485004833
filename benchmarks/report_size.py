"""How big and how slow the HTML report of a long, busy run is: report.html of a 1 h run.

Writes the synthetic run folder of ``judging.py`` (``write_run``: 5,000 rps over 10
endpoints for an hour, with a deploy-like burst of failures and slow requests), compacts and
judges it as a run leaves its folder, then times ``write_report`` (read the folder, build
the view, render report.html) and states the file's size and what it is made of.

    .venv/bin/python benchmarks/report_size.py [--keep DIR]

Targets: report.html < 1.5 MB, built in < 5 s. Exits 1 if either is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from judging import SCENARIO, write_run

from slagate.errors import ExitCode
from slagate.report import write_report
from slagate.report.rendering import plotly_bundle
from slagate.report.summary import Summary, write_summary
from slagate.scenario import parse_scenario
from slagate.sla.judging import exit_code_for, judge
from slagate.timeline import compact_run, load_timeline

MAX_BYTES = 1_500_000
MAX_SECONDS = 5.0


def main() -> int:
    args = _parser().parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="slagate-bench-"))
    try:
        run_dir = base / "run"
        print(f"synthetic 1 h run at 5,000 rps: {write_run(run_dir, 5)}")
        compact_run(run_dir)
        _judge(run_dir)
        return _measure(run_dir)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Size and build time of a 1 h run's report.")
    parser.add_argument("--keep", help="write the run folder under this folder and keep it")
    return parser


def _judge(run_dir: Path) -> None:
    """summary.json as a judged run has it, so the report shows verdicts and evidence."""
    verdicts = tuple(judge(parse_scenario(SCENARIO, "benchmark"), load_timeline(run_dir)))
    write_summary(run_dir, Summary(exit_code_for(verdicts, aborted=False), verdicts))


def _measure(run_dir: Path) -> int:
    started = time.perf_counter()
    path = write_report(run_dir)
    took = time.perf_counter() - started
    size = path.stat().st_size
    script = len(plotly_bundle().encode())
    ok = size < MAX_BYTES and took < MAX_SECONDS
    print(
        f"report.html of a 1 h run: {size / 1e6:.2f} MB (plotly.js {script / 1e6:.2f} MB, "
        f"figures and text {(size - script) / 1e6:.2f} MB; target < {MAX_BYTES / 1e6:g} MB), "
        f"built in {took:.2f} s (target < {MAX_SECONDS:g} s): {'PASS' if ok else 'FAIL'}"
    )
    return int(ExitCode.PASSED) if ok else 1


if __name__ == "__main__":
    sys.exit(main())
