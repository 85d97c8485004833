"""A pod's spec as the kubelet reads it: containers, env, probes, hooks, as frozen values.

Read once when the kubelet admits a pod (a pod's spec is immutable but for images, which
the sandbox does not follow). The API server has already filled in upstream's defaults;
a body that skipped defaulting gets the same defaults here. Malformed numbers fall back
to the default rather than failing: the API server does not validate probes either.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from slagate.sandbox.kubelet.probe_states import ProbeKind, ProbeSpec
from slagate.sandbox.kubelet.termination import DEFAULT_GRACE_S
from slagate.sandbox.objects.bodies import RawObject, mapping_at

_PROBE_FIELDS = {
    ProbeKind.STARTUP: "startupProbe",
    ProbeKind.LIVENESS: "livenessProbe",
    ProbeKind.READINESS: "readinessProbe",
}
_UNSUPPORTED_SOURCES = ("resourceFieldRef",)
_KEY_SOURCES = {"configMapKeyRef": "ConfigMap", "secretKeyRef": "Secret"}
_FROM_SOURCES = {"configMapRef": "ConfigMap", "secretRef": "Secret"}


class RestartPolicy(enum.Enum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


@dataclass(frozen=True)
class HttpGetAction:
    """``httpGet``: host None means the pod IP; ``port`` a number or a port name."""

    port: int | str
    path: str = "/"
    host: str | None = None
    scheme: str = "HTTP"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TcpSocketAction:
    port: int | str
    host: str | None = None


@dataclass(frozen=True)
class ExecAction:
    command: tuple[str, ...]


@dataclass(frozen=True)
class SleepAction:
    """``lifecycle.preStop.sleep``: wait, then go on with SIGTERM."""

    seconds: float


@dataclass(frozen=True)
class UnsupportedAction:
    """A handler the sandbox cannot run (``grpc``, or none given); it always fails."""

    description: str


Action = HttpGetAction | TcpSocketAction | ExecAction | SleepAction | UnsupportedAction


@dataclass(frozen=True)
class Probe:
    """One probe of a container: its timing (``probe_states``) and its action.
    ``termination_grace_s`` is the probe-level override used when it kills the container."""

    kind: ProbeKind
    timing: ProbeSpec
    action: Action
    termination_grace_s: int | None = None


@dataclass(frozen=True)
class KeyRef:
    """``valueFrom.configMapKeyRef`` / ``secretKeyRef``: one key of one object."""

    kind: str
    """``ConfigMap`` or ``Secret``."""
    name: str
    key: str
    optional: bool = False


@dataclass(frozen=True)
class EnvSource:
    """One ``envFrom`` entry: every key of a ConfigMap or Secret, behind ``prefix``."""

    kind: str
    name: str
    prefix: str = ""
    optional: bool = False


@dataclass(frozen=True)
class EnvVar:
    """One ``env`` entry: a literal ``value`` (which may reference earlier entries as
    ``$(NAME)``), a ``fieldRef`` path, a ConfigMap or Secret key, or a source the sandbox
    does not support."""

    name: str
    value: str | None = None
    field_path: str | None = None
    unsupported: str | None = None
    key_ref: KeyRef | None = None


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    ports: tuple[tuple[str, int], ...] = ()
    """Named container ports: (name, number)."""
    probes: tuple[Probe, ...] = ()
    pre_stop: Action | None = None
    env_from: tuple[EnvSource, ...] = ()
    logs_on_error: bool = False
    """``terminationMessagePolicy: FallbackToLogsOnError``: a failed run's termination
    message is the tail of its log (the sandbox writes no termination-log file)."""
    sidecar: bool = False
    """An init container with ``restartPolicy: Always``: a native sidecar, started in
    order with the init containers, kept running beside the app containers."""
    init: bool = False
    """From ``initContainers`` (a native sidecar included)."""

    def probe(self, kind: ProbeKind) -> Probe | None:
        return next((probe for probe in self.probes if probe.kind is kind), None)

    def port_number(self, port: int | str) -> int | None:
        """A probe's port as a number: itself, or the container port of that name."""
        if isinstance(port, int):
            return port
        if port.isdigit():
            return int(port)
        return next((number for name, number in self.ports if name == port), None)


@dataclass(frozen=True)
class PodSpec:
    containers: tuple[ContainerSpec, ...]
    restart_policy: RestartPolicy = RestartPolicy.ALWAYS
    grace_s: int = DEFAULT_GRACE_S
    """``terminationGracePeriodSeconds``."""
    init_containers: tuple[ContainerSpec, ...] = ()
    """``initContainers``, in order: run to completion one by one (native sidecars,
    ``sidecar``, only started) before the app containers start."""
    service_links: bool = True
    """``enableServiceLinks``: give containers the Service variables of the namespace."""
    readiness_gates: tuple[str, ...] = ()
    """``readinessGates[].conditionType``: conditions others set that Ready waits for."""


def parse_pod_spec(pod: RawObject) -> PodSpec:
    spec = mapping_at(pod, "spec")
    try:
        policy = RestartPolicy(spec.get("restartPolicy", "Always"))
    except ValueError:
        policy = RestartPolicy.ALWAYS
    return PodSpec(
        containers=tuple(parse_container(c) for c in _mappings(spec.get("containers"))),
        restart_policy=policy,
        grace_s=_int(spec.get("terminationGracePeriodSeconds"), DEFAULT_GRACE_S),
        init_containers=tuple(
            parse_container(c, init=True) for c in _mappings(spec.get("initContainers"))
        ),
        service_links=spec.get("enableServiceLinks") is not False,
        readiness_gates=tuple(
            str(gate["conditionType"])
            for gate in _mappings(spec.get("readinessGates"))
            if gate.get("conditionType")
        ),
    )


def parse_container(container: Mapping[str, Any], init: bool = False) -> ContainerSpec:
    probes = []
    for kind, field in _PROBE_FIELDS.items():
        raw = container.get(field)
        if isinstance(raw, dict):
            probes.append(parse_probe(kind, raw))
    pre_stop = mapping_at(dict(container), "lifecycle", "preStop")
    return ContainerSpec(
        name=str(container.get("name", "")),
        image=str(container.get("image", "")),
        command=_strings(container.get("command")),
        args=_strings(container.get("args")),
        env=tuple(parse_env(e) for e in _mappings(container.get("env"))),
        ports=tuple(
            (str(p["name"]), number)
            for p in _mappings(container.get("ports"))
            if p.get("name") and (number := _int(p.get("containerPort"), 0))
        ),
        probes=tuple(probes),
        pre_stop=parse_action(pre_stop) if pre_stop else None,
        env_from=tuple(
            source
            for entry in _mappings(container.get("envFrom"))
            if (source := parse_env_source(entry)) is not None
        ),
        logs_on_error=container.get("terminationMessagePolicy") == "FallbackToLogsOnError",
        sidecar=container.get("restartPolicy") == RestartPolicy.ALWAYS.value,
        init=init,
    )


def parse_probe(kind: ProbeKind, probe: Mapping[str, Any]) -> Probe:
    defaults = ProbeSpec()
    timing = ProbeSpec(
        initial_delay_s=_int(probe.get("initialDelaySeconds"), defaults.initial_delay_s),
        period_s=max(1, _int(probe.get("periodSeconds"), defaults.period_s)),
        timeout_s=max(1, _int(probe.get("timeoutSeconds"), defaults.timeout_s)),
        success_threshold=max(1, _int(probe.get("successThreshold"), 1)),
        failure_threshold=max(1, _int(probe.get("failureThreshold"), 3)),
    )
    grace = probe.get("terminationGracePeriodSeconds")
    return Probe(kind, timing, parse_action(probe), _int(grace, 0) if grace is not None else None)


def parse_action(handler: Mapping[str, Any]) -> Action:
    """The action of a probe or lifecycle handler (``httpGet``, ``tcpSocket``, ``exec``,
    ``sleep``); anything else is an ``UnsupportedAction``."""
    if isinstance(http := handler.get("httpGet"), dict):
        headers = tuple(
            (str(h.get("name", "")), str(h.get("value", "")))
            for h in _mappings(http.get("httpHeaders"))
        )
        return HttpGetAction(
            port=_port(http.get("port")),
            path=str(http.get("path") or "/"),
            host=str(http["host"]) if http.get("host") else None,
            scheme=str(http.get("scheme") or "HTTP").upper(),
            headers=headers,
        )
    if isinstance(tcp := handler.get("tcpSocket"), dict):
        host = str(tcp["host"]) if tcp.get("host") else None
        return TcpSocketAction(_port(tcp.get("port")), host)
    if isinstance(exec_ := handler.get("exec"), dict):
        return ExecAction(_strings(exec_.get("command")))
    if isinstance(sleep := handler.get("sleep"), dict):
        return SleepAction(float(_int(sleep.get("seconds"), 0)))
    if "grpc" in handler:
        return UnsupportedAction("grpc probes are not supported by the sandbox")
    return UnsupportedAction("the handler has no httpGet, tcpSocket, exec or sleep action")


def parse_env(entry: Mapping[str, Any]) -> EnvVar:
    name = str(entry.get("name", ""))
    source = entry.get("valueFrom")
    if not isinstance(source, dict):
        return EnvVar(name, value=str(entry.get("value", "")))
    field_ref = source.get("fieldRef")
    if isinstance(field_ref, dict) and field_ref.get("fieldPath"):
        return EnvVar(name, field_path=str(field_ref["fieldPath"]))
    for field, kind in _KEY_SOURCES.items():
        ref = source.get(field)
        if isinstance(ref, dict):
            key_ref = KeyRef(kind, str(ref.get("name", "")), str(ref.get("key", "")))
            return EnvVar(name, key_ref=replace(key_ref, optional=ref.get("optional") is True))
    kind = next((k for k in _UNSUPPORTED_SOURCES if k in source), "valueFrom")
    return EnvVar(name, unsupported=kind)


def parse_env_source(entry: Mapping[str, Any]) -> EnvSource | None:
    for field, kind in _FROM_SOURCES.items():
        ref = entry.get(field)
        if isinstance(ref, dict):
            prefix, optional = str(entry.get("prefix") or ""), ref.get("optional") is True
            return EnvSource(kind, str(ref.get("name", "")), prefix, optional)
    return None


def _port(value: Any) -> int | str:
    number = _int(value, -1)
    return number if number >= 0 else str(value)


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
