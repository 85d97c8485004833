"""``slagate check``: judge a recorded run again, offline, with the same finish as a run.

With ``prometheus_url`` the run's PromQL series are fetched again first (a run whose
Prometheus was unreachable at its end can be judged once it is back): the newer fetch
wins over the recorded one, and run.json says where the series came from.
"""

from __future__ import annotations

from pathlib import Path

from slagate.lifecycle import RunResult, finish_run, read_whole_run, record_prometheus
from slagate.run.prometheus import prepare_server_side
from slagate.scenario import Scenario, load_scenario, parse_url
from slagate.timeline import RunInfo, read_run_info


def check_run(
    run_dir: Path,
    scenario_path: Path | None = None,
    prometheus_url: str | None = None,
    baseline: str | None = None,
) -> RunResult:
    """Re-judge ``run_dir`` (with another scenario's SLAs when given; relative SLAs
    against ``baseline``, a run folder or ``latest-pass``)."""
    if prometheus_url is not None:
        parse_url(prometheus_url, "--prometheus-url")
    scenario = load_scenario(scenario_path) if scenario_path is not None else None
    if prometheus_url is not None:
        read_whole_run(run_dir)  # a damaged folder is refused before the fetch writes to it
        _refetch(run_dir, scenario, prometheus_url)
    return finish_run(run_dir, scenario, baseline)


def _refetch(run_dir: Path, scenario: Scenario | None, url: str) -> None:
    info = read_run_info(run_dir)
    scenario = scenario or info.scenario
    if scenario is None:
        return  # finish_run says that a scenario is needed
    namespace = info.cluster.namespace if info.cluster else "default"
    sandbox = info.prometheus is not None and info.prometheus.source == "sandbox"
    server_side = prepare_server_side(
        scenario, namespace, option_url=url, sandbox_url=None, sandbox=sandbox
    )
    if server_side is not None:
        end_ms = _end_ms(info) + round(1000 * server_side.plan.lag_s)
        server_side.fetch(run_dir, info.started_ms, end_ms)
        record_prometheus(run_dir, server_side.info)


def _end_ms(info: RunInfo) -> int:
    return info.ended_ms if info.ended_ms is not None else info.started_ms
