"""The PromQL SLAs of a scenario as the queries a run sends, placeholders filled.

Each SLA gets one query whose samples carry its id in the ``metrics`` table; an error-ratio
preset gets two more, ``<id>:errors`` and ``<id>:requests`` (the rates of 5xx and of all
requests), so the server-side ratio over any window can be set beside the client side's.
Pure: no client, no clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slagate.scenario import (
    ERRORS_SUFFIX,
    LAG_STEPS,
    PRESETS,
    REQUESTS_SUFFIX,
    PromqlSla,
    Scenario,
    render,
)

SANDBOX_STEP_S = 1.0
SANDBOX_RANGE_S = 5.0
"""The sandbox's Prometheus scrapes every second: a 5 s range holds five samples."""

CLUSTER_STEP_S = 15.0
CLUSTER_RANGE_S = 60.0
"""A real cluster's Prometheus scrapes every 15-30 s: rate() needs a few samples."""


@dataclass(frozen=True)
class PlannedQuery:
    id: str
    """What its samples are filed under in the ``metrics`` table."""

    sla_id: str
    query: str
    metric: str | None
    """The metric a preset needs (checked to exist in preflight); None for own queries."""


@dataclass(frozen=True)
class QueryPlan:
    step_s: float
    range_s: float
    lag_s: float
    """How long after an event Prometheus may show it (``prometheus.lag``)."""
    queries: tuple[PlannedQuery, ...]


def plan_queries(scenario: Scenario, namespace: str, sandbox: bool) -> QueryPlan:
    """Every query the scenario's PromQL SLAs need, for targets in ``namespace``."""
    settings = scenario.prometheus
    step_s = settings.step or (SANDBOX_STEP_S if sandbox else CLUSTER_STEP_S)
    range_s = settings.range or (SANDBOX_RANGE_S if sandbox else CLUSTER_RANGE_S)
    lag_s = settings.lag if settings.lag is not None else LAG_STEPS * step_s
    values = {"namespace": namespace, "range": duration(range_s), "step": duration(step_s)}
    queries = tuple(q for spec in promql_slas(scenario) for q in _queries(spec, values))
    return QueryPlan(step_s, range_s, lag_s, queries)


def promql_slas(scenario: Scenario) -> list[PromqlSla]:
    return [s for s in scenario.slas if isinstance(s, PromqlSla)]


def duration(seconds: float) -> str:
    """A PromQL duration: ``5s``, or ``1500ms`` when not a whole second."""
    whole = round(seconds)
    return f"{whole}s" if abs(seconds - whole) < 1e-9 else f"{round(seconds * 1000)}ms"


def _queries(spec: PromqlSla, common: dict[str, str]) -> Iterator[PlannedQuery]:
    values = {**common, **_own_values(spec)}
    preset = PRESETS[spec.preset] if spec.preset else None
    metric = preset.metric if preset else None
    yield PlannedQuery(spec.sla_id, spec.sla_id, render(spec.template, values), metric)
    if preset is not None and preset.counts is not None:
        errors, requests = (render(part, values) for part in preset.counts)
        yield PlannedQuery(spec.sla_id + ERRORS_SUFFIX, spec.sla_id, errors, metric)
        yield PlannedQuery(spec.sla_id + REQUESTS_SUFFIX, spec.sla_id, requests, metric)


def _own_values(spec: PromqlSla) -> dict[str, str]:
    named = {"deployment": spec.deployment, "service": spec.service}
    named["consumer_group"] = spec.consumer_group
    return {k: v for k, v in named.items() if v is not None}
