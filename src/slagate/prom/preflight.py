"""Before any load: Prometheus answers, accepts every query, and has every preset's metric.

A typo in a query or an unreachable URL must end the run with exit 2 before a single
request, naming the query (with Prometheus' own message) or the URL. A preset's metric may
need a few scrapes to appear in a freshly started sandbox, so it is waited for, bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slagate.errors import PreflightError, PrometheusError
from slagate.prom.planning import QueryPlan
from slagate.prom.querying import PrometheusQuerier

METRIC_WAIT_S = 15.0
POLL_S = 0.5


def preflight_prometheus(
    querier: PrometheusQuerier,
    plan: QueryPlan,
    *,
    metric_wait_s: float = METRIC_WAIT_S,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """``PreflightError`` naming every problem found; nothing returned when all is well."""
    try:
        querier.instant_query("vector(1)")
    except PrometheusError as e:
        raise PreflightError(f"Prometheus preflight failed, no load was sent: {e}") from e
    problems = [p for p in (_rejection(querier, q.query) for q in plan.queries) if p]
    if not problems:
        problems = _missing_metrics(querier, plan, monotonic() + metric_wait_s, monotonic)
    if problems:
        raise PreflightError(
            "Prometheus preflight failed, no load was sent:\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def _rejection(querier: PrometheusQuerier, query: str) -> str | None:
    try:
        querier.instant_query(query)
    except PrometheusError as e:
        return str(e)
    return None


def _missing_metrics(
    querier: PrometheusQuerier, plan: QueryPlan, deadline: float, monotonic: Callable[[], float]
) -> list[str]:
    needed = {q.metric: q.sla_id for q in plan.queries if q.metric is not None}
    while True:
        missing = {m: sla for m, sla in needed.items() if not _exists(querier, m)}
        if not missing or monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    return [
        f"{sla}: the preset needs the metric {metric}, which Prometheus at "
        f"{querier.shown_url} does not have: is its exporter scraped?"
        for metric, sla in sorted(missing.items())
    ]


def _exists(querier: PrometheusQuerier, metric: str) -> bool:
    try:
        return bool(querier.instant_query(f'count({{__name__="{metric}"}})'))
    except PrometheusError:
        return False
