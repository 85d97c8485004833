"""The server side of a run: which Prometheus, its preflight, and fetching the series.

A scenario with PromQL SLAs needs a Prometheus: ``--prometheus-url`` first, then the
scenario's ``prometheus.url``, then the Prometheus of a sandbox started for the run. Its
queries are checked before any load (``slagate.prom.preflight``) and fetched once the run
has run, while the cluster (and a sandbox's Prometheus) is still up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slagate.errors import ConfigError
from slagate.prom.fetching import Fetched, fetch_metrics
from slagate.prom.planning import QueryPlan, plan_queries, promql_slas
from slagate.prom.preflight import preflight_prometheus
from slagate.prom.querying import PrometheusQuerier
from slagate.scenario import Scenario
from slagate.timeline import PrometheusInfo

INSTALL_HINT = (
    "pass --prometheus-url URL, set prometheus.url in the scenario, or run with --sandbox "
    "on a machine with Prometheus installed (apt-get install -y prometheus)"
)


@dataclass(frozen=True)
class ServerSide:
    """A Prometheus ready for a run's PromQL SLAs, and what run.json says of it."""

    querier: PrometheusQuerier
    plan: QueryPlan
    info: PrometheusInfo

    def fetch(
        self, run_dir: Path, start_ms: int, end_ms: int, clock: Callable[[], float] = time.time
    ) -> Fetched:
        return fetch_metrics(self.querier, self.plan, run_dir, start_ms, end_ms, clock)


def prepare_server_side(
    scenario: Scenario,
    namespace: str,
    *,
    option_url: str | None,
    sandbox_url: str | None,
    sandbox: bool,
) -> ServerSide | None:
    """None without PromQL SLAs; else a checked Prometheus (``PreflightError`` if not)."""
    if not promql_slas(scenario):
        return None
    url, source = _choose(scenario, option_url, sandbox_url, sandbox)
    querier = PrometheusQuerier(url, scenario.prometheus)
    plan = plan_queries(scenario, namespace, sandbox=source == "sandbox")
    preflight_prometheus(querier, plan)
    queries = {q.id: q.query for q in plan.queries}
    info = PrometheusInfo(
        url=querier.shown_url,
        source=source,
        step_s=plan.step_s,
        range_s=plan.range_s,
        lag_s=plan.lag_s,
        queries=queries,
    )
    return ServerSide(querier, plan, info)


def _choose(
    scenario: Scenario, option_url: str | None, sandbox_url: str | None, sandbox: bool
) -> tuple[str, str]:
    if option_url:
        return option_url, "option"
    if scenario.prometheus.url:
        return scenario.prometheus.url, "scenario"
    if sandbox_url:
        return sandbox_url, "sandbox"
    why = "the sandbox runs without Prometheus (not installed)" if sandbox else "no Prometheus"
    raise ConfigError(f"the scenario has PromQL SLAs but {why}: {INSTALL_HINT}")
