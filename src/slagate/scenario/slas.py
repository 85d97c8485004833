"""Windows and the SLA kinds a scenario declares (judged by ``slagate.sla``)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Self

from pydantic import (
    Field,
    model_validator,
)

from slagate.scenario.base import Duration, _Model
from slagate.scenario.presets import (
    PRESETS,
    TEMPLATE_VARIABLES,
    Op,
    PresetName,
    Reduce,
    variables_of,
)

# --- windows ------------------------------------------------------------------------------


class WindowSpan(_Model):
    """An explicit window in seconds after load start; ``end`` omitted means load end."""

    start: Duration = 0.0
    end: Duration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> WindowSpan:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"window end ({self.end} s) must be after its start ({self.start} s)")
        return self


WindowRef = str | WindowSpan


# --- SLAs ---------------------------------------------------------------------------------


class _Sla(_Model):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")] | None = None
    window: WindowRef = "load"
    description: str = ""
    endpoint: str | None = Field(
        default=None, description='Locust name, optionally with method: "GET /orders/[id]".'
    )
    abort_on_fail: bool = Field(
        default=False,
        description=(
            "Stop the load as soon as this SLA is breached in a way the rest of the run "
            "cannot repair (docs/live.md); the run exits 1 with this SLA as the cause."
        ),
    )
    grace: Duration = Field(
        default=0.0,
        description="Seconds after the SLA's window began before abort_on_fail may stop the run.",
    )

    def default_id(self) -> str:
        raise NotImplementedError

    @property
    def threshold(self) -> tuple[float, str]:
        """The threshold this SLA is judged against, and its unit."""
        raise NotImplementedError

    @property
    def window_label(self) -> str:
        w = self.window
        if isinstance(w, str):
            return w
        return f"{w.start:g}s-{w.end:g}s" if w.end is not None else f"{w.start:g}s-end"

    @property
    def sla_id(self) -> str:
        return self.id or self.default_id()

    def _scope(self) -> str:
        if not self.endpoint:
            return ""
        return "-" + re.sub(r"[^A-Za-z0-9]+", "-", self.endpoint).strip("-").lower()


class _RelativeSla(_Sla):
    """An SLA whose bound is either absolute (``ABSOLUTE``, e.g. ``max_ms``) or a ratio to
    the same measurement on a baseline run (``RATIO``: ``max_ratio_to_baseline`` or
    ``min_ratio_to_baseline``): exactly one of the two. Judging turns a ratio into an
    absolute bound (``with_bound``) once the baseline's value is known."""

    ABSOLUTE: ClassVar[str]
    RATIO: ClassVar[str]
    UNIT: ClassVar[str]

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        given = [f for f in (self.ABSOLUTE, self.RATIO) if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of {self.ABSOLUTE} (an absolute bound) or {self.RATIO} "
                "(a ratio to the same measurement on the --baseline run)"
            )
        return self

    @property
    def ratio(self) -> float | None:
        """The ratio to the baseline's measurement, None for an absolute bound."""
        value = getattr(self, self.RATIO)
        return None if value is None else float(value)

    @property
    def bound(self) -> float:
        """The absolute bound; a relative SLA has one only after ``with_bound``."""
        value = getattr(self, self.ABSOLUTE)
        if value is None:
            raise ValueError(f"SLA {self.sla_id} is relative to a baseline: bound it first")
        return float(value)

    def with_bound(self, bound: float) -> Self:
        """This SLA with the absolute bound ``bound`` (the ratio resolved)."""
        return self.model_copy(update={self.ABSOLUTE: bound, self.RATIO: None})

    @property
    def threshold(self) -> tuple[float, str]:
        ratio = self.ratio
        return (self.bound, self.UNIT) if ratio is None else (ratio, "x baseline")


class AvailabilitySla(_RelativeSla):
    """Successful requests / all requests, in percent, at least ``min_percent`` (or at
    least ``min_ratio_to_baseline`` times the baseline run's)."""

    ABSOLUTE: ClassVar[str] = "min_percent"
    RATIO: ClassVar[str] = "min_ratio_to_baseline"
    UNIT: ClassVar[str] = "%"
    kind: Literal["availability"]
    min_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    min_ratio_to_baseline: Annotated[float, Field(gt=0)] | None = None

    def default_id(self) -> str:
        return f"availability{self._scope()}-{self.window_label}"


class FailedRequestsSla(_Sla):
    """At most ``max`` failed requests."""

    kind: Literal["failed_requests"]
    max: Annotated[int, Field(ge=0)] = 0

    @property
    def threshold(self) -> tuple[float, str]:
        return float(self.max), "requests"

    def default_id(self) -> str:
        return f"failed-requests{self._scope()}-{self.window_label}"


class LatencySla(_RelativeSla):
    """The ``percentile`` of response times at most ``max_ms`` milliseconds (or at most
    ``max_ratio_to_baseline`` times the baseline run's)."""

    ABSOLUTE: ClassVar[str] = "max_ms"
    RATIO: ClassVar[str] = "max_ratio_to_baseline"
    UNIT: ClassVar[str] = "ms"
    kind: Literal["latency"]
    percentile: Annotated[float, Field(gt=0, le=100)] = 95.0
    max_ms: Annotated[float, Field(gt=0)] | None = None
    max_ratio_to_baseline: Annotated[float, Field(gt=0)] | None = None

    def default_id(self) -> str:
        return f"p{self.percentile:g}-latency{self._scope()}-{self.window_label}"


class ThroughputSla(_RelativeSla):
    """Mean requests per second over the window at least ``min_rps`` (or at least
    ``min_ratio_to_baseline`` times the baseline run's)."""

    ABSOLUTE: ClassVar[str] = "min_rps"
    RATIO: ClassVar[str] = "min_ratio_to_baseline"
    UNIT: ClassVar[str] = "rps"
    kind: Literal["throughput"]
    min_rps: Annotated[float, Field(ge=0)] | None = None
    min_ratio_to_baseline: Annotated[float, Field(gt=0)] | None = None

    def default_id(self) -> str:
        return f"throughput{self._scope()}-{self.window_label}"


class ReadyEndpointsSla(_Sla):
    """The Service's ready endpoints never below ``min`` inside the window."""

    kind: Literal["ready_endpoints"]
    service: str
    min: Annotated[int, Field(ge=0)] = 1

    @property
    def threshold(self) -> tuple[float, str]:
        return float(self.min), "endpoints"

    def default_id(self) -> str:
        return f"ready-endpoints-{self.service}-{self.window_label}"


class RolloutDurationSla(_RelativeSla):
    """Each rollout of ``deployment`` completes (old pods gone) within ``max`` (or within
    ``max_ratio_to_baseline`` times the baseline run's longest rollout)."""

    ABSOLUTE: ClassVar[str] = "max"
    RATIO: ClassVar[str] = "max_ratio_to_baseline"
    UNIT: ClassVar[str] = "s"
    kind: Literal["rollout_duration"]
    deployment: str
    max: Duration | None = None
    max_ratio_to_baseline: Annotated[float, Field(gt=0)] | None = None
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"rollout-duration-{self.deployment}"


class ScaleOutSla(_RelativeSla):
    """``deployment`` has at least ``replicas`` ready replicas within ``within`` of load start
    (or within ``max_ratio_to_baseline`` times the baseline run's scale-out time)."""

    ABSOLUTE: ClassVar[str] = "within"
    RATIO: ClassVar[str] = "max_ratio_to_baseline"
    UNIT: ClassVar[str] = "s"
    kind: Literal["scale_out"]
    deployment: str
    replicas: Annotated[int, Field(ge=1)]
    within: Duration | None = None
    max_ratio_to_baseline: Annotated[float, Field(gt=0)] | None = None
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"scale-out-{self.deployment}-{self.replicas}"


class MaxReplicasSla(_Sla):
    """``deployment`` never has more than ``max`` replicas (desired) inside the window."""

    kind: Literal["max_replicas"]
    deployment: str
    max: Annotated[int, Field(ge=0)]
    window: WindowRef = "run"

    @property
    def threshold(self) -> tuple[float, str]:
        return float(self.max), "replicas"

    def default_id(self) -> str:
        return f"max-replicas-{self.deployment}"


class ScaleInSla(_Sla):
    """``deployment`` is back to at most ``replicas`` within ``within`` after load stops."""

    kind: Literal["scale_in"]
    deployment: str
    replicas: Annotated[int, Field(ge=0)]
    within: Duration
    window: WindowRef = "run"

    @property
    def bound(self) -> float:
        """The seconds allowed (as ``ScaleOutSla.bound``; scale-in has no ratio form)."""
        return self.within

    @property
    def threshold(self) -> tuple[float, str]:
        return self.within, "s"

    def default_id(self) -> str:
        return f"scale-in-{self.deployment}-{self.replicas}"


class FlappingSla(_Sla):
    """At most ``max_changes`` reversals of the scaling direction of ``deployment``."""

    kind: Literal["flapping"]
    deployment: str
    max_changes: Annotated[int, Field(ge=0)] = 1
    window: WindowRef = "run"

    @property
    def threshold(self) -> tuple[float, str]:
        return float(self.max_changes), "reversals"

    def default_id(self) -> str:
        return f"flapping-{self.deployment}"


class NoLostWritesSla(_Sla):
    """Every write the target acknowledged (``acks`` of ``ack_kind``) is readable after the run."""

    kind: Literal["no_lost_writes"]
    ack_kind: str = "order"
    max_lost: Annotated[int, Field(ge=0)] = 0
    window: WindowRef = "run"

    @property
    def threshold(self) -> tuple[float, str]:
        return float(self.max_lost), "writes"

    def default_id(self) -> str:
        return f"no-lost-{self.ack_kind}s"


class PromqlSla(_Sla):
    """Any PromQL, or a named preset, reduced over the window and compared to ``threshold``.

    ``query`` (with ``{namespace}``, ``{deployment}``, ``{service}``, ``{consumer_group}``,
    ``{range}``, ``{step}`` placeholders) or ``preset`` (``slagate.scenario.presets``);
    ``reduce`` and ``op`` default to the preset's (else ``max`` and ``<=``). No data (an
    empty result, NaN, a series gone stale, a query error, Prometheus unreachable) fails
    the gate unless ``optional``."""

    kind: Literal["promql"]
    query: str | None = None
    preset: PresetName | None = None
    reduce: Reduce | None = None
    op: Op | None = None
    threshold_value: float = Field(alias="threshold")
    unit: str | None = None
    deployment: str | None = None
    service: str | None = None
    consumer_group: str | None = None
    optional: bool = False
    endpoints: list[str] = Field(
        default_factory=list,
        description=(
            "The Locust endpoints whose requests reach this workload, for the client/server "
            "cross-check of an error-ratio preset (default: every endpoint)."
        ),
    )

    @model_validator(mode="after")
    def _query_or_preset(self) -> PromqlSla:
        if (self.query is None) == (self.preset is None):
            raise ValueError("give exactly one of query (PromQL) or preset (a named SLI)")
        unknown = sorted(variables_of(self.template) - set(TEMPLATE_VARIABLES))
        if unknown == ["window"]:
            raise ValueError(
                "the rate() range is {range} (prometheus.range), not {window}: the SLA's "
                "window field chooses the span that is judged"
            )
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}} in the query; known: "
                + ", ".join(f"{{{v}}}" for v in TEMPLATE_VARIABLES)
            )
        needed = variables_of(self.template) - {"namespace", "range", "step"}
        missing = sorted(v for v in needed if getattr(self, v, None) is None)
        if missing:
            raise ValueError(f"the query needs {', '.join(missing)}: set it on this SLA")
        return self

    @property
    def template(self) -> str:
        """The query before its placeholders are filled."""
        return PRESETS[self.preset].query if self.preset else (self.query or "")

    @property
    def reduction(self) -> Reduce:
        return self.reduce or (PRESETS[self.preset].reduce if self.preset else "max")

    @property
    def comparison(self) -> Op:
        return self.op or (PRESETS[self.preset].op if self.preset else "<=")

    @property
    def threshold(self) -> tuple[float, str]:
        unit = (
            self.unit
            if self.unit is not None
            else (PRESETS[self.preset].unit if self.preset else "")
        )
        return self.threshold_value, unit

    def default_id(self) -> str:
        subject = self.deployment or self.service or self.consumer_group
        name = (self.preset or "promql").replace("_", "-")
        return f"{name}{f'-{subject}' if subject else ''}-{self.window_label}"


SlaSpec = Annotated[
    AvailabilitySla
    | FailedRequestsSla
    | LatencySla
    | ThroughputSla
    | ReadyEndpointsSla
    | RolloutDurationSla
    | ScaleOutSla
    | MaxReplicasSla
    | ScaleInSla
    | FlappingSla
    | NoLostWritesSla
    | PromqlSla,
    Field(discriminator="kind"),
]
NO_IRREPARABLE_BREACH: dict[str, str] = {
    "throughput": "more requests can only raise a mean rate, and stopping the load lowers it",
    "scale_in": "its window begins when the load stops: there is no load left to stop",
    "no_lost_writes": "writes are read back after the load: nothing is known before the end",
    "promql": "Prometheus series are fetched and judged after the load, past the scrape lag",
}
"""The SLA kinds ``abort_on_fail`` is refused on, and why (docs/live.md)."""

SLA_KINDS = (
    "availability",
    "failed_requests",
    "latency",
    "throughput",
    "ready_endpoints",
    "rollout_duration",
    "scale_out",
    "max_replicas",
    "scale_in",
    "flapping",
    "no_lost_writes",
    "promql",
)
