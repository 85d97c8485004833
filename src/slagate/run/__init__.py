"""Orchestration: preflight -> load child + progress -> drain -> persist -> judge.

The run layer owns the order of things and the run folder; it never imports Locust or
gevent (the load runs in a child process, ``python -m slagate.load``)."""

from slagate.run.orchestrating import RunOptions, RunResult, check_run, run_scenario

__all__ = ["RunOptions", "RunResult", "check_run", "run_scenario"]
