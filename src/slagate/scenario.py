"""Scenario files: the declarative experiment (YAML) and its pydantic model.

A scenario names the target, the load shape, optional named windows, safety limits and
the SLAs to judge. ``load_scenario`` turns every problem into a ``ScenarioError`` whose
lines name the file, the line, the field and what is expected.

Durations are seconds (a number) or a string with a unit: ``500ms``, ``30s``, ``2m``, ``1h``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from slagate.errors import ScenarioError

HARD_MAX_USERS = 100_000
HARD_MAX_DURATION_S = 24 * 3600.0
BUILTIN_WINDOWS = ("run", "load", "steady", "cooldown", "rollout")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as ``"90s"``, ``"2m"``, ``"500ms"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"expected a duration such as 30s, 2m or 500ms, got {value!r}")
    if seconds < 0 or math.isinf(seconds) or math.isnan(seconds):
        raise ValueError(f"a duration must be a finite number >= 0, got {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- target ------------------------------------------------------------------------------


class KubeTarget(_Model):
    """The cluster side of the target: what to watch and where actions may mutate."""

    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")] = "default"
    service: str | None = Field(
        default=None,
        description="Service whose load-balancer address becomes the host when no host is given.",
    )
    services: dict[str, str] = Field(
        default_factory=dict,
        description="Locustfile service name -> Kubernetes Service name (URLs resolved likewise).",
    )
    allow_mutations_in: list[str] = Field(
        default_factory=list,
        description="Namespaces where scenario actions may change the cluster (safety).",
    )


class Target(_Model):
    """Where the load goes. ``host`` is Locust's ``--host``; ``services`` are further base
    URLs the locustfile asks for by name (e.g. the product service of the shop)."""

    host: str | None = None
    kubernetes: KubeTarget | None = None
    services: dict[str, str] = Field(default_factory=dict)
    preflight_path: str = "/"
    preflight_timeout: Duration = 5.0

    @field_validator("host")
    @classmethod
    def _host_is_url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v)

    @field_validator("services")
    @classmethod
    def _services_are_urls(cls, v: dict[str, str]) -> dict[str, str]:
        return {name: _check_url(url) for name, url in v.items()}


def _check_url(url: str) -> str:
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
    return url.rstrip("/")


# --- load shapes --------------------------------------------------------------------------


class Stage(NamedTuple):
    """Hold ``users`` (spawned at ``spawn_rate``/s) until ``end_s`` seconds after load start."""

    end_s: float
    users: int
    spawn_rate: float


Users = Annotated[int, Field(ge=0, le=HARD_MAX_USERS)]
SpawnRate = Annotated[float, Field(gt=0, le=10_000)]


class _Shape(_Model):
    locustfile: str = "locustfiles/orders.py"
    user_classes: list[str] = Field(default_factory=list)
    spawn_rate: SpawnRate = 10.0

    def stages(self) -> list[Stage]:
        raise NotImplementedError

    @property
    def duration_s(self) -> float:
        return self.stages()[-1].end_s

    @property
    def peak_users(self) -> int:
        return max(s.users for s in self.stages())


class ConstantLoad(_Shape):
    shape: Literal["constant"]
    users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    duration: Duration

    def stages(self) -> list[Stage]:
        return [Stage(self.duration, self.users, self.spawn_rate)]


class StepStage(_Model):
    users: Users
    duration: Duration
    spawn_rate: SpawnRate | None = None


class StepsLoad(_Shape):
    shape: Literal["steps"]
    stages_: list[StepStage] = Field(alias="stages", min_length=1)

    def stages(self) -> list[Stage]:
        out, end = [], 0.0
        for s in self.stages_:
            end += s.duration
            out.append(Stage(end, s.users, s.spawn_rate or self.spawn_rate))
        return out


class RampLoad(_Shape):
    """From ``start_users`` to ``end_users`` over ``ramp`` in one-second steps, then ``hold``."""

    shape: Literal["ramp"]
    start_users: Users = 1
    end_users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    ramp: Duration
    hold: Duration = 0.0

    def stages(self) -> list[Stage]:
        steps = max(1, int(self.ramp))
        out = []
        for i in range(1, steps + 1):
            users = round(self.start_users + (self.end_users - self.start_users) * i / steps)
            out.append(Stage(self.ramp * i / steps, users, self.spawn_rate))
        if self.hold > 0:
            out.append(Stage(self.ramp + self.hold, self.end_users, self.spawn_rate))
        return out


class SpikeLoad(_Shape):
    """``users`` for ``before``, ``spike_users`` for ``spike``, back to ``users`` for ``after``."""

    shape: Literal["spike"]
    users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    spike_users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)]
    before: Duration
    spike: Duration
    after: Duration
    spike_spawn_rate: SpawnRate = 100.0

    def stages(self) -> list[Stage]:
        t1 = self.before
        t2 = t1 + self.spike
        return [
            Stage(t1, self.users, self.spawn_rate),
            Stage(t2, self.spike_users, self.spike_spawn_rate),
            Stage(t2 + self.after, self.users, self.spike_spawn_rate),
        ]


LoadShape = Annotated[ConstantLoad | StepsLoad | RampLoad | SpikeLoad, Field(discriminator="shape")]


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

    def default_id(self) -> str:
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


class AvailabilitySla(_Sla):
    """Successful requests / all requests, in percent, at least ``min_percent``."""

    kind: Literal["availability"]
    min_percent: Annotated[float, Field(ge=0, le=100)]

    def default_id(self) -> str:
        return f"availability{self._scope()}-{self.window_label}"


class FailedRequestsSla(_Sla):
    """At most ``max`` failed requests."""

    kind: Literal["failed_requests"]
    max: Annotated[int, Field(ge=0)] = 0

    def default_id(self) -> str:
        return f"failed-requests{self._scope()}-{self.window_label}"


class LatencySla(_Sla):
    """The ``percentile`` of response times at most ``max_ms`` milliseconds."""

    kind: Literal["latency"]
    percentile: Annotated[float, Field(gt=0, le=100)] = 95.0
    max_ms: Annotated[float, Field(gt=0)]

    def default_id(self) -> str:
        return f"p{self.percentile:g}-latency{self._scope()}-{self.window_label}"


class ThroughputSla(_Sla):
    """Mean requests per second over the window at least ``min_rps``."""

    kind: Literal["throughput"]
    min_rps: Annotated[float, Field(ge=0)]

    def default_id(self) -> str:
        return f"throughput{self._scope()}-{self.window_label}"


class ReadyEndpointsSla(_Sla):
    """The Service's ready endpoints never below ``min`` inside the window."""

    kind: Literal["ready_endpoints"]
    service: str
    min: Annotated[int, Field(ge=0)] = 1

    def default_id(self) -> str:
        return f"ready-endpoints-{self.service}-{self.window_label}"


class RolloutDurationSla(_Sla):
    """Each rollout of ``deployment`` completes (old pods gone) within ``max``."""

    kind: Literal["rollout_duration"]
    deployment: str
    max: Duration
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"rollout-duration-{self.deployment}"


class ScaleOutSla(_Sla):
    """``deployment`` has at least ``replicas`` ready replicas within ``within`` of load start."""

    kind: Literal["scale_out"]
    deployment: str
    replicas: Annotated[int, Field(ge=1)]
    within: Duration
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"scale-out-{self.deployment}-{self.replicas}"


class MaxReplicasSla(_Sla):
    """``deployment`` never has more than ``max`` replicas (desired) inside the window."""

    kind: Literal["max_replicas"]
    deployment: str
    max: Annotated[int, Field(ge=0)]
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"max-replicas-{self.deployment}"


class ScaleInSla(_Sla):
    """``deployment`` is back to at most ``replicas`` within ``within`` after load stops."""

    kind: Literal["scale_in"]
    deployment: str
    replicas: Annotated[int, Field(ge=0)]
    within: Duration
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"scale-in-{self.deployment}-{self.replicas}"


class FlappingSla(_Sla):
    """At most ``max_changes`` reversals of the scaling direction of ``deployment``."""

    kind: Literal["flapping"]
    deployment: str
    max_changes: Annotated[int, Field(ge=0)] = 1
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"flapping-{self.deployment}"


class NoLostWritesSla(_Sla):
    """Every write the target acknowledged (``acks`` of ``ack_kind``) is readable after the run."""

    kind: Literal["no_lost_writes"]
    ack_kind: str = "order"
    max_lost: Annotated[int, Field(ge=0)] = 0
    window: WindowRef = "run"

    def default_id(self) -> str:
        return f"no-lost-{self.ack_kind}s"


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
    | NoLostWritesSla,
    Field(discriminator="kind"),
]
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
)


# --- actions ------------------------------------------------------------------------------


class _Action(_Model):
    at: Duration = Field(description="Seconds after load start.")
    id: str | None = None

    @property
    def namespace_needed(self) -> bool:
        return True


class RolloutRestartAction(_Action):
    """``kubectl rollout restart``, then wait until complete and the old pods are gone."""

    kind: Literal["rollout_restart"]
    deployment: str
    timeout: Duration = 300.0


class SetImageAction(_Action):
    """``kubectl set image``: a new template, hence a rollout; waited for like a restart."""

    kind: Literal["set_image"]
    deployment: str
    container: str
    image: str
    timeout: Duration = 300.0


class ScaleAction(_Action):
    kind: Literal["scale"]
    deployment: str
    replicas: Annotated[int, Field(ge=0)]


class DeletePodAction(_Action):
    """Delete one pod matching ``selector`` (label selector), or the pod named ``pod``."""

    kind: Literal["delete_pod"]
    selector: str | None = None
    pod: str | None = None
    grace_period: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DeletePodAction:
        if (self.selector is None) == (self.pod is None):
            raise ValueError("give exactly one of selector (e.g. app=order) or pod (a name)")
        return self


ActionSpec = Annotated[
    RolloutRestartAction | SetImageAction | ScaleAction | DeletePodAction,
    Field(discriminator="kind"),
]
ACTION_KINDS = ("rollout_restart", "set_image", "scale", "delete_pod")


# --- the scenario -------------------------------------------------------------------------


class Limits(_Model):
    """Hard caps the run refuses to exceed (safety)."""

    max_users: Annotated[int, Field(ge=1, le=HARD_MAX_USERS)] = 1000
    max_duration: Annotated[Duration, Field(le=HARD_MAX_DURATION_S)] = 3600.0


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
    drain: Duration = Field(
        default=2.0, description="Seconds users get to finish in-flight requests at load end."
    )
    cooldown: Duration = Field(
        default=0.0,
        description="Seconds the cluster is still recorded after the load stops (scale-in).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.load.peak_users > self.limits.max_users:
            raise ValueError(
                f"limits.max_users: the load peaks at {self.load.peak_users} users, above "
                f"the limit of {self.limits.max_users}; lower the load or raise the limit"
            )
        if self.load.duration_s > self.limits.max_duration:
            raise ValueError(
                f"limits.max_duration: the load lasts {self.load.duration_s:g} s, above the "
                f"limit of {self.limits.max_duration:g} s; shorten the load or raise the limit"
            )
        for name in self.windows:
            if name in BUILTIN_WINDOWS and name != "steady":
                raise ValueError(f"windows.{name}: {name!r} is built in and cannot be redefined")
        self._check_sla_refs()
        self._check_actions()
        return self

    def _check_actions(self) -> None:
        if not self.actions:
            return
        kube = self.target.kubernetes
        if kube is None:
            raise ValueError(
                "actions: actions change a cluster; declare target.kubernetes (namespace "
                "and allow_mutations_in) first"
            )
        if kube.namespace not in kube.allow_mutations_in:
            raise ValueError(
                f"target.kubernetes.allow_mutations_in: actions would change namespace "
                f"{kube.namespace!r}, which is not allowed; add it to allow_mutations_in "
                "if this cluster may be changed"
            )
        for i, action in enumerate(self.actions):
            if action.at > self.load.duration_s:
                raise ValueError(
                    f"actions[{i}].at: {action.at:g} s is after the load ends "
                    f"({self.load.duration_s:g} s)"
                )

    def _check_sla_refs(self) -> None:
        known = set(BUILTIN_WINDOWS) | set(self.windows)
        seen: set[str] = set()
        for i, sla in enumerate(self.slas):
            if isinstance(sla, ScaleInSla) and sla.within > self.cooldown:
                raise ValueError(
                    f"slas[{i}].within: scale-in is judged {sla.within:g} s after the load "
                    f"stops, but only cooldown: {self.cooldown:g} s is recorded; raise cooldown"
                )
            if isinstance(sla.window, str) and sla.window not in known:
                raise ValueError(
                    f"slas[{i}].window: unknown window {sla.window!r}; use one of "
                    f"{', '.join(sorted(known))} or {{start: 10s, end: 40s}}"
                )
            if sla.sla_id in seen:
                raise ValueError(f"slas[{i}]: duplicate SLA id {sla.sla_id!r}; give each an id")
            seen.add(sla.sla_id)


# --- loading ------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem becomes a ``ScenarioError``."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ScenarioError(str(path), [f"cannot read the file: {e.strerror or e}"]) from e
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioError(source, [f"{where}: malformed YAML: {problem}"]) from e
    if not isinstance(data, dict):
        raise ScenarioError(
            source, [f"{source}:1: expected a mapping with name, load and slas at the top"]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        problems = [_describe(err, root, source) for err in e.errors()]
        raise ScenarioError(source, problems) from None


def _describe(err: Any, root: yaml.Node | None, source: str) -> str:
    loc = [p for p in err["loc"] if not _is_union_tag(p)]
    msg = err["msg"].removeprefix("Value error, ")
    if (m := _FIELD_PREFIX.match(msg)) is not None:
        loc = loc + _parse_dotted(m.group(1))
        msg = m.group(2)
    field = _dotted(loc) or "(top level)"
    line = _line_of(root, loc)
    where = f"{source}:{line}" if line else source
    if err["type"] == "union_tag_invalid":
        tag = err["ctx"]["tag"]
        msg = (
            f"unknown {err['ctx']['discriminator'].strip(chr(39))} {tag!r}; expected one of "
            + (err["ctx"]["expected_tags"])
        )
    elif err["type"] == "extra_forbidden":
        msg = "unknown field; check the spelling against the scenario reference in the README"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return (
        f"{where}: {field}: {msg} (got {_short(err.get('input'))})"
        if _shows_input(err)
        else f"{where}: {field}: {msg}"
    )


def _shows_input(err: Any) -> bool:
    return err["type"] not in (
        "missing",
        "extra_forbidden",
        "union_tag_invalid",
        "value_error",
    ) and not (isinstance(err.get("input"), dict))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part in ("constant", "steps", "ramp", "spike", "str", "WindowSpan")
        or part in SLA_KINDS
        or part in ACTION_KINDS
    )


_FIELD_PREFIX = re.compile(r"^([a-z_]+(?:\[\d+\]|\.[a-z_]+)*): (.*)$", re.DOTALL)


def _parse_dotted(path: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.findall(r"[a-z_]+|\d+", path)]


def _dotted(loc: list[Any]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _line_of(root: yaml.Node | None, loc: list[Any]) -> int | None:
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = value
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None
