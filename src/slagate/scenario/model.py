"""The scenario itself: limits, the abort rule and the checks across its parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, NamedTuple

from pydantic import (
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from slagate.errors import FieldProblem
from slagate.numbers import MAX_DURATION_S
from slagate.scenario.actions import ActionSpec
from slagate.scenario.base import (
    BUILTIN_WINDOWS,
    HARD_MAX_USERS,
    Duration,
    _Model,
)
from slagate.scenario.prometheus import PrometheusSettings
from slagate.scenario.shapes import LoadShape
from slagate.scenario.slas import NO_IRREPARABLE_BREACH, ScaleInSla, SlaSpec, WindowSpan
from slagate.scenario.targets import Target

SettingValue = StrictStr | StrictFloat | StrictInt
"""A sandbox setting's value as written: a name (``kube-proxy``), a duration (``5s``) or a
number; the sandbox's settings decide which each key takes."""


class SettingsLayer(NamedTuple):
    """Sandbox settings from one place (a scenario's ``sandbox:`` block, a sweep's cell),
    laid over the settings file's: where they were written, for messages, and the values."""

    source: str
    values: Mapping[str, str | float]


# --- the scenario -------------------------------------------------------------------------


class Limits(_Model):
    """Hard caps the run refuses to exceed (safety)."""

    max_users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)] = 1000
    max_duration: Annotated[Duration, Field(le=MAX_DURATION_S)] = 3600.0


class Abort(_Model):
    """Stop the load (exit 3) when the failure ratio over ``over`` exceeds ``max_failure_ratio``."""

    max_failure_ratio: Annotated[float, Field(gt=0, le=1)]
    over: Duration = 10.0
    min_requests: Annotated[int, Field(ge=1)] = 20


class Scenario(_Model):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    target: Target = Field(default_factory=Target)
    load: LoadShape
    windows: dict[str, WindowSpan] = Field(default_factory=dict)
    slas: list[SlaSpec] = Field(default_factory=list)
    actions: list[ActionSpec] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    abort: Abort | None = None
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)
    drain: Duration = Field(
        default=2.0, description="Seconds users get to finish in-flight requests at load end."
    )
    cooldown: Duration = Field(
        default=0.0,
        description="Seconds the cluster is still recorded after the load stops (scale-in).",
    )
    sandbox: dict[str, SettingValue] = Field(default_factory=dict)
    """The sandbox settings this scenario assumes (``timing``, ``data_plane``,
    ``endpoint_propagation_delay_s``, ...: the keys of ``sandbox-settings.yaml``), used by
    ``--sandbox`` runs over the settings file's; ``--timing``/``--data-plane`` and a
    sweep's ``--vary`` win over them. The sandbox checks them with the settings file's own
    rules (the scenario layer knows no sandbox); a real cluster ignores them."""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.load.peak_users > self.limits.max_users:
            raise FieldProblem(
                ("limits", "max_users"),
                f"the load peaks at {self.load.peak_users} users, above "
                f"the limit of {self.limits.max_users}; lower the load or raise the limit",
            )
        if self.load.duration_s > self.limits.max_duration:
            raise FieldProblem(
                ("limits", "max_duration"),
                f"the load lasts {self.load.duration_s:g} s, above the "
                f"limit of {self.limits.max_duration:g} s; shorten the load or raise the limit",
            )
        for name in self.windows:
            if name in BUILTIN_WINDOWS and name != "steady":
                raise FieldProblem(
                    ("windows", name), f"{name!r} is built in and cannot be redefined"
                )
        self._check_sla_refs()
        self._check_actions()
        return self

    def judged_endpoints(self) -> tuple[str, ...]:
        """Every Locust endpoint an SLA names (``endpoint``, and a PromQL SLA's
        ``endpoints``), as written: ``"GET /orders/[id]"`` or a name alone. The recorder
        keeps these apart even past ``load.max_endpoints``."""
        named: dict[str, None] = {}
        for sla in self.slas:
            if sla.endpoint:
                named[sla.endpoint] = None
            for endpoint in getattr(sla, "endpoints", ()):
                named[endpoint] = None
        return tuple(named)

    def _check_actions(self) -> None:
        if not self.actions:
            return
        kube = self.target.kubernetes
        if kube is None:
            raise FieldProblem(
                ("actions",),
                "actions change a cluster; declare target.kubernetes (namespace "
                "and allow_mutations_in) first",
            )
        if kube.namespace not in kube.allow_mutations_in:
            raise FieldProblem(
                ("target", "kubernetes", "allow_mutations_in"),
                f"actions would change namespace "
                f"{kube.namespace!r}, which is not allowed; add it to allow_mutations_in "
                "if this cluster may be changed",
            )
        for i, action in enumerate(self.actions):
            if action.at > self.load.duration_s:
                raise FieldProblem(
                    ("actions", i, "at"),
                    f"{action.at:g} s is after the load ends ({self.load.duration_s:g} s)",
                )

    def _check_sla_refs(self) -> None:
        known = set(BUILTIN_WINDOWS) | set(self.windows)
        seen: set[str] = set()
        for i, sla in enumerate(self.slas):
            if isinstance(sla, ScaleInSla) and sla.within > self.cooldown:
                raise FieldProblem(
                    ("slas", i, "within"),
                    f"scale-in is judged {sla.within:g} s after the load "
                    f"stops, but only cooldown: {self.cooldown:g} s is recorded; raise cooldown",
                )
            if isinstance(sla.window, str) and sla.window not in known:
                raise FieldProblem(
                    ("slas", i, "window"),
                    f"unknown window {sla.window!r}; use one of "
                    f"{', '.join(sorted(known))} or {{start: 10s, end: 40s}}",
                )
            _check_abort_on_fail(sla, i)
            if sla.sla_id in seen:
                raise FieldProblem(("slas", i), f"duplicate SLA id {sla.sla_id!r}; give each an id")
            seen.add(sla.sla_id)


def _check_abort_on_fail(sla: SlaSpec, i: int) -> None:
    """``abort_on_fail`` only on kinds with a breach the rest of the run cannot repair;
    ``grace`` only with it (alone it would change nothing, silently)."""
    why = NO_IRREPARABLE_BREACH.get(sla.kind)
    if sla.abort_on_fail and why is not None:
        raise FieldProblem(
            ("slas", i, "abort_on_fail"),
            f"SLA {sla.sla_id!r}: a {sla.kind} SLA cannot stop the run ({why}); remove "
            "abort_on_fail, or add an SLA of a kind that can (see docs/live.md)",
        )
    if sla.abort_on_fail and getattr(sla, "ratio", None) is not None:
        raise FieldProblem(
            ("slas", i, "abort_on_fail"),
            f"SLA {sla.sla_id!r}: an SLA relative to a baseline is judged after the run, "
            "against the baseline's value; give it an absolute bound to stop the run with, "
            "or remove abort_on_fail",
        )
    if sla.grace > 0 and not sla.abort_on_fail:
        raise FieldProblem(
            ("slas", i, "grace"),
            f"SLA {sla.sla_id!r}: grace delays abort_on_fail, which this SLA does not set; "
            "add abort_on_fail: true or remove grace",
        )
