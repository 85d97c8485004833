"""``run.json``: what was run, against what, when, and how it ended.

One typed model (``RunInfo``), one writer (``write_run_info``, atomic), one reader
(``read_run_info``, validated): the run folder's schema is readable here and checked when
a folder is read back. A run's lifecycle moves ``status`` from ``running`` to
``completed``, ``aborted`` or ``failed`` (the load generator never ran); the resolved
``windows`` are added when the run is judged, for readers that do not resolve them.
"""

from __future__ import annotations

import enum
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from slagate.errors import TimelineError
from slagate.files import write_atomically
from slagate.scenario import Scenario, ShownUrl, ShownUrls

RUN_INFO = "run.json"
SCHEMA_VERSION = 1
"""Bumped when run.json changes incompatibly; a newer folder is refused, not misread."""

VERSIONED_DISTRIBUTIONS = ("slagate", "locust", "kubernetes")


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    """Started and not ended: a folder left like this was killed; judged as aborted."""

    COMPLETED = "completed"
    """The load ran to its planned end."""

    ABORTED = "aborted"
    """Stopped early: a signal, a safety stop, an overrun; what was recorded is judged."""

    FAILED = "failed"
    """The load generator never ran or crashed before recording: nothing to judge."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowBounds(_Model):
    """A resolved window: epoch milliseconds, end exclusive."""

    start_ms: int
    end_ms: int


class SandboxProfile(_Model):
    """The timings and the data plane a sandbox ran with: a verdict on the sandbox holds
    under these, so every run, report and ``slagate sandbox status`` says which."""

    timing: str
    """The named timing setting (``compressed``, ``real-time``) the timings started from."""

    overridden: list[str] = Field(default_factory=list)
    """Timings set apart from that setting (in a settings file); their values are below."""

    timings: dict[str, float]
    """Every controller and kubelet timing in force, in seconds, by its setting's name
    (named after the real component's flag, e.g. ``hpa_sync_period_s``)."""

    data_plane: str
    """The service proxy's profile (``per-request``, ``kube-proxy``): how its Services
    balanced and when they saw endpoint changes (docs/sandbox.md, "Data-plane profiles")."""

    endpoint_propagation_delay_s: float
    """How long the data plane lags an EndpointSlice change."""

    endpoint_propagation_jitter_s: float = 0.0
    """Up to how much longer a change may lag (``kube-proxy``'s sync period; 0 otherwise)."""

    cpu_limits: str = ""
    """What enforced the containers' CPU limits (``CPU limits enforced by cgroup v2
    cpu.max``) or why nothing did (``CPU limits not enforced (...)``); empty in older
    runs."""

    capacity: str = ""
    """The nodes pods were scheduled on, when limited (``nodes of 600m CPU and 110 pods,
    up to 2, a new one 20 s after a pod found no room``); empty: one node of unlimited CPU
    (and in older runs)."""

    container_signals: str = ""
    """How containers received SIGTERM: as PID 1 of a PID namespace, as on a cluster, or
    (no namespaces on the host) as process groups, and why (docs/sandbox.md, "Signals
    and PID 1"). Empty in runs recorded before it was stated."""

    target_group: dict[str, float] | None = None
    """Under ``aws-alb``/``aws-nlb``: the target group's timings by setting name
    (``health_check_interval_s``, ``healthy_threshold_count``,
    ``deregistration_propagation_s``, ``deregistration_delay_s``); None otherwise."""

    hpa_tolerance: float | None = None
    """The HPA's tolerance (``--horizontal-pod-autoscaler-tolerance``): no scaling while
    the metric's ratio to its target is within it. None in runs recorded before it was."""

    scrape_interval_s: float | None = None
    """The sandbox Prometheus' ``scrape_interval``, which PromQL verdicts' rates and lags
    follow. None in runs recorded before it was stated."""

    @property
    def termination_lag_s(self) -> float:
        """The longest a terminating pod still gets new requests under this data plane: what
        a preStop sleep must cover (the deregistration propagation behind a load balancer,
        the endpoint propagation and its jitter otherwise)."""
        if self.target_group is not None:
            return self.target_group["deregistration_propagation_s"]
        return self.endpoint_propagation_delay_s + self.endpoint_propagation_jitter_s

    @property
    def termination_lag_name(self) -> str:
        """What ``termination_lag_s`` is called, with the data plane: ``aws-alb's
        deregistration propagation``."""
        what = "deregistration" if self.target_group is not None else "endpoint"
        return f"{self.data_plane}'s {what} propagation"

    @property
    def _lag(self) -> str:
        group = self.target_group
        if group is not None:
            count, interval = group["healthy_threshold_count"], group["health_check_interval_s"]
            return (
                f"a new target gets requests after {count:g} health checks {interval:g} s "
                f"apart ({count * interval:g} s), a leaving one until "
                f"{group['deregistration_propagation_s']:g} s later; deregistration delay "
                f"{group['deregistration_delay_s']:g} s"
            )
        delay, jitter = self.endpoint_propagation_delay_s, self.endpoint_propagation_jitter_s
        return "endpoint changes reach the proxy after " + (
            f"{delay:g} s" + (f" to {delay + jitter:g} s" if jitter else "")
        )

    def describe(self) -> str:
        """One line for people, timings by name: ``timing compressed
        (crashloop_backoff_initial_s 2 s, ...); data plane ...``."""
        values = ", ".join(f"{key} {value:g} s" for key, value in sorted(self.timings.items()))
        changed = f", set apart from it: {', '.join(self.overridden)}"
        others = []  # None in runs recorded before these were stated
        if self.hpa_tolerance is not None:
            others.append(f"hpa_tolerance {self.hpa_tolerance:g}")
        if self.scrape_interval_s is not None:
            others.append(f"scrape_interval_s {self.scrape_interval_s:g} s")
        values += f"; {', '.join(others)}" if others else ""
        return (
            f"timing {self.timing}{changed if self.overridden else ''} ({values}; probe "
            f"periods as the manifests say); data plane {self.data_plane} ({self._lag})"
            + "".join(f"; {text}" for text in (self.capacity, self.cpu_limits) if text)
            + (f"; containers as {self.container_signals}" if self.container_signals else "")
        )


_ADDED_LATER = frozenset({"hpa_tolerance", "scrape_interval_s"})
"""Profile fields runs recorded before had no value for (None)."""


def same_conditions(one: SandboxProfile | None, other: SandboxProfile | None) -> bool:
    """Whether two runs ran under the same conditions: both on a cluster (None), or on
    sandboxes whose profiles agree in every field both recorded. A field a run recorded
    before it existed (None there) is left out, so that stating a new fact does not set
    every older run apart."""
    if one is None or other is None:
        return one is other
    mine, theirs = one.model_dump(), other.model_dump()
    return all(
        mine[key] == theirs[key]
        for key in mine
        if key not in _ADDED_LATER or (mine[key] is not None and theirs[key] is not None)
    )


class ClusterInfo(_Model):
    """The cluster a run recorded and acted on (never credentials)."""

    server: ShownUrl
    """The API server URL (written without user info or query)."""

    namespace: str
    context: str | None = None
    """The kubeconfig context, when one was chosen."""

    sandbox: bool = False
    """The embedded sandbox cluster, started for the run."""

    prometheus_url: ShownUrl | None = None
    """The sandbox's own Prometheus, when it ran one (whether or not SLAs queried it)."""

    sandbox_profile: SandboxProfile | None = None
    """The sandbox's timings and data plane, when the run started one."""


class PrometheusInfo(_Model):
    """The Prometheus a run's PromQL SLAs were fetched from (never headers or tokens)."""

    url: str
    """Its base URL, without user info."""

    source: str
    """``sandbox``, ``option`` (--prometheus-url) or ``scenario`` (prometheus.url)."""

    step_s: float
    """The range queries' resolution."""

    range_s: float
    """What ``{range}`` stood for in the queries."""

    lag_s: float | None = None
    """How long after an event Prometheus may show it: PromQL SLAs look this far past their
    window's end (None: three steps; the cross-check moves its window one step)."""

    queries: dict[str, str] = Field(default_factory=dict)
    """Every query as sent, by the id its samples carry in the ``metrics`` table."""


class RunInfo(_Model):
    """The contents of ``run.json``. Field by field:"""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    """The run folder's name."""

    scenario_name: str | None = None
    """None for a plain ``locust -f`` recording without a scenario."""

    scenario_path: str | None = None
    scenario: Scenario | None = None
    """The scenario as resolved (defaults filled in): what the run was judged against."""

    host: ShownUrl | None = None
    """The target's base URL (Locust ``--host``), written without user info or query."""

    services: ShownUrls = Field(default_factory=dict)
    """Named service URLs the locustfile used, written likewise."""

    started_ms: int
    """Epoch milliseconds: the start of the ``run`` window."""

    ended_ms: int | None = None
    """Epoch milliseconds: the end of the ``run`` window; None while running."""

    status: RunStatus = RunStatus.RUNNING
    abort_reason: str | None = None
    """Why the run stopped early or failed, in words."""

    stopped_by: str | None = None
    """The id of the SLA whose ``abort_on_fail`` stopped the run (status ``aborted``): the
    run is judged, and fails with that SLA (exit 1), rather than ending aborted (exit 3)."""

    stop_window_end_ms: int | None = None
    """Epoch milliseconds, exclusive: where the window ``stopped_by`` was judged in ended
    when it stopped the run (the end of the data judged then). An availability or latency
    SLA that stopped the run is judged in its window cut there (``sla.judging.RATIOS``)."""

    versions: dict[str, str] = Field(default_factory=dict)
    """Python, slagate, locust and kubernetes client versions of the recording process."""

    cluster: ClusterInfo | None = None
    prometheus: PrometheusInfo | None = None
    windows: dict[str, WindowBounds] = Field(default_factory=dict)
    """Windows resolved when the run was judged (evaluators resolve them from events)."""

    @property
    def sandbox_profile(self) -> SandboxProfile | None:
        """The sandbox's timings and data plane, when the run started one."""
        return self.cluster.sandbox_profile if self.cluster is not None else None


def versions() -> dict[str, str]:
    """Versions of Python and the distributions a run depends on, for ``run.json``."""
    found = {"python": platform.python_version()}
    for distribution in VERSIONED_DISTRIBUTIONS:
        try:
            found[distribution] = version(distribution)
        except PackageNotFoundError:
            continue
    return found


def write_run_info(run_dir: Path, info: RunInfo) -> None:
    """Write ``run_dir/run.json`` atomically (readable by everyone, like every artifact)."""
    write_atomically(Path(run_dir) / RUN_INFO, info.model_dump_json(indent=2, by_alias=True))


def read_run_info(run_dir: Path) -> RunInfo:
    """Read and validate ``run_dir/run.json``; a ``TimelineError`` names what is wrong."""
    path = Path(run_dir) / RUN_INFO
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise TimelineError(
            f"{run_dir} is not a run folder: {RUN_INFO} is missing; "
            "pass the folder `slagate run` printed (reports/<run-id>)"
        ) from e
    except (OSError, ValueError, RecursionError) as e:
        raise TimelineError(
            f"cannot read {path}: {e}; it is not the JSON slagate writes (restore it from a "
            "copy of the run folder)"
        ) from e
    _check_version(path, data)
    try:
        return RunInfo.model_validate(data)
    except ValidationError as e:
        raise TimelineError(f"{path} is not a valid run.json: {_problems(e)}") from e


def _check_version(path: Path, data: object) -> None:
    found = data.get("schema_version", SCHEMA_VERSION) if isinstance(data, dict) else None
    if isinstance(found, int) and found > SCHEMA_VERSION:
        raise TimelineError(
            f"{path} was written by a newer slagate (run.json schema {found}, this one reads "
            f"{SCHEMA_VERSION}); judge it with that version or upgrade slagate"
        )


def _problems(error: ValidationError, shown: int = 5) -> str:
    lines = [
        f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
        for e in error.errors()[:shown]
    ]
    more = error.error_count() - len(lines)
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")
