"""The kubelet's pure parts: image table, env and $(VAR) expansion, spec parsing,
back-off, and the pod status it renders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from slagate.errors import ContainerStartError
from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.kubelet.backoff import Backoff, advance, go_duration, restart_at
from slagate.sandbox.kubelet.environment import (
    expand,
    pod_fields,
    resolve_env,
    service_env,
)
from slagate.sandbox.kubelet.images import container_argv, repository
from slagate.sandbox.kubelet.probe_states import ProbeKind, ProbeSpec
from slagate.sandbox.kubelet.specs import (
    EnvVar,
    ExecAction,
    HttpGetAction,
    KeyRef,
    Probe,
    RestartPolicy,
    SleepAction,
    TcpSocketAction,
    parse_container,
    parse_pod_spec,
)
from slagate.sandbox.kubelet.status import (
    ContainerView,
    PodView,
    Running,
    Terminated,
    Waiting,
    pod_phase,
    render_status,
)

PY = "/opt/py/bin/python3.11"

# -- images --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        pytest.param("python", "python", id="bare"),
        pytest.param("python:3.12-slim", "python", id="tag"),
        pytest.param("ghcr.io/slagate/slagate-shop:0.1", "ghcr.io/slagate/slagate-shop", id="reg"),
        pytest.param("localhost:5000/shop@sha256:ab", "localhost:5000/shop", id="port-digest"),
    ],
)
def test_repository_drops_tag_and_digest(image: str, expected: str) -> None:
    assert repository(image) == expected


@pytest.mark.parametrize(
    ("image", "command", "args", "argv"),
    [
        pytest.param(
            "ghcr.io/slagate/slagate-shop:0.1",
            [],
            ["order", "--port", "80"],
            [PY, "-m", "slagate.shop", "order", "--port", "80"],
            id="shop-entrypoint-plus-args",
        ),
        pytest.param(
            "python:3.12",
            ["python3", "-m", "http.server"],
            ["8000"],
            [PY, "-m", "http.server", "8000"],
            id="python-command",
        ),
        pytest.param("python", [], ["python", "-V"], [PY, "-V"], id="python-args-only"),
        pytest.param("python", [], [], [PY], id="python-default-cmd"),
        pytest.param("python", ["sh", "-c", "true"], [], ["sh", "-c", "true"], id="not-python"),
        pytest.param(
            "docker.io/library/python:3.12",
            ["/usr/local/bin/python3.12", "-c", "pass"],
            [],
            [PY, "-c", "pass"],
            id="python-path",
        ),
    ],
)
def test_container_argv(image: str, command: list[str], args: list[str], argv: list[str]) -> None:
    assert container_argv(image, command, args, PY) == argv


def test_unknown_image_is_not_mapped_and_named() -> None:
    with pytest.raises(ContainerStartError) as caught:
        container_argv("nginx:1.27", [], [], PY)

    assert caught.value.reason == "ImageNotMapped"
    assert '"nginx:1.27"' in caught.value.message


# -- env -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("$(A)-$(B)", "1-two", id="two"),
        pytest.param("$(MISSING)", "$(MISSING)", id="undefined-kept"),
        pytest.param("$$(A)", "$(A)", id="escaped"),
        pytest.param("$$$(A)", "$1", id="escaped-dollar-then-ref"),
        pytest.param("cost: $5", "cost: $5", id="lone-dollar"),
        pytest.param("end$", "end$", id="trailing-dollar"),
        pytest.param("$(A", "$(A", id="unclosed"),
        pytest.param("$()", "$()", id="empty-name"),
        pytest.param("no refs", "no refs", id="plain"),
    ],
)
def test_expand_like_upstream(text: str, expected: str) -> None:
    assert expand(text, {"A": "1", "B": "two"}) == expected


def test_env_resolves_fields_and_earlier_entries_in_order() -> None:
    env = (
        EnvVar("POD_IP", field_path="status.podIP"),
        EnvVar("URL", value="http://$(POD_IP):$(PORT)"),
        EnvVar("PORT", value="8080"),
        EnvVar("TEAM", field_path="metadata.labels['team']"),
    )
    pod = {"metadata": {"name": "web-1", "namespace": "shop", "labels": {"team": "sre"}}}

    resolved = resolve_env(env, pod_fields(pod, "127.180.3.7", "127.0.0.1", "node"))

    assert resolved == {
        "POD_IP": "127.180.3.7",
        "URL": "http://127.180.3.7:$(PORT)",
        "PORT": "8080",
        "TEAM": "sre",
    }


@pytest.mark.parametrize(
    ("var", "fragment"),
    [
        pytest.param(
            EnvVar("R", unsupported="resourceFieldRef"), "resourceFieldRef", id="resource"
        ),
        pytest.param(EnvVar("L", field_path="spec.priority"), "spec.priority", id="field"),
    ],
)
def test_env_without_a_source_is_a_config_error(var: EnvVar, fragment: str) -> None:
    with pytest.raises(ContainerStartError) as caught:
        resolve_env([var], {})

    assert caught.value.reason == "CreateContainerConfigError"
    assert fragment in caught.value.message


PROXIED = {
    "metadata": {"name": "product-api"},
    "spec": {
        "clusterIP": "10.96.0.10",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 9090}],
    },
    "status": {
        "loadBalancer": {
            "ingress": [
                {"ip": "127.0.0.1", "ports": [{"port": 40123, "protocol": "TCP"}, {"port": 40124}]}
            ]
        }
    },
}


def test_service_env_holds_the_proxy_address_when_published() -> None:
    assert service_env([PROXIED]) == {
        "PRODUCT_API_SERVICE_HOST": "127.0.0.1",
        "PRODUCT_API_SERVICE_PORT": "40123",
        "PRODUCT_API_SERVICE_PORT_HTTP": "40123",
        "PRODUCT_API_PORT": "tcp://127.0.0.1:40123",
        "PRODUCT_API_PORT_80_TCP": "tcp://127.0.0.1:40123",
        "PRODUCT_API_PORT_80_TCP_PROTO": "tcp",
        "PRODUCT_API_PORT_80_TCP_PORT": "40123",
        "PRODUCT_API_PORT_80_TCP_ADDR": "127.0.0.1",
        "PRODUCT_API_PORT_9090_TCP": "tcp://127.0.0.1:40124",
        "PRODUCT_API_PORT_9090_TCP_PROTO": "tcp",
        "PRODUCT_API_PORT_9090_TCP_PORT": "40124",
        "PRODUCT_API_PORT_9090_TCP_ADDR": "127.0.0.1",
    }


def test_service_env_falls_back_to_cluster_ip_and_skips_headless_services() -> None:
    unpublished = {
        "metadata": {"name": "db"},
        "spec": {"clusterIP": "10.96.0.11", "ports": [{"port": 5432}]},
    }
    headless = {
        "metadata": {"name": "peers"},
        "spec": {"clusterIP": "None", "ports": [{"port": 1}]},
    }

    env = service_env([unpublished, headless])

    assert env["DB_SERVICE_HOST"] == "10.96.0.11"
    assert env["DB_SERVICE_PORT"] == "5432"
    assert env["DB_PORT"] == "tcp://10.96.0.11:5432"
    assert not any(name.startswith("PEERS_") for name in env)


def test_container_env_overrides_service_variables_and_may_use_them() -> None:
    env = (
        EnvVar("PRODUCT_API_SERVICE_PORT", value="1"),
        EnvVar("URL", value="http://$(PRODUCT_API_SERVICE_HOST):$(PRODUCT_API_SERVICE_PORT)"),
    )

    resolved = resolve_env(env, {}, service_env([PROXIED]))

    assert resolved["PRODUCT_API_SERVICE_PORT"] == "1"
    assert resolved["URL"] == "http://127.0.0.1:1"
    assert resolved["PRODUCT_API_PORT"] == "tcp://127.0.0.1:40123"


# -- specs ---------------------------------------------------------------------------


def test_parse_container_probes_ports_hooks_and_env() -> None:
    container = parse_container(
        {
            "name": "app",
            "image": "python",
            "ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 9090}],
            "env": [
                {"name": "A", "value": "1"},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": "x", "key": "y"}}},
            ],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 2},
            "livenessProbe": {"tcpSocket": {"port": 8080}, "terminationGracePeriodSeconds": 5},
            "startupProbe": {"exec": {"command": ["true"]}, "failureThreshold": 30},
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        }
    )

    assert container.ports == (("http", 8080),)
    assert container.port_number("http") == 8080
    assert container.port_number("grpc") is None
    assert container.env == (
        EnvVar("A", value="1"),
        EnvVar("IP", field_path="status.podIP"),
        EnvVar("S", key_ref=KeyRef("Secret", "x", "y")),
    )
    assert container.probes == (
        Probe(ProbeKind.STARTUP, ProbeSpec(failure_threshold=30), ExecAction(("true",))),
        Probe(ProbeKind.LIVENESS, ProbeSpec(), TcpSocketAction(8080), termination_grace_s=5),
        Probe(ProbeKind.READINESS, ProbeSpec(period_s=2), HttpGetAction("http", "/ready")),
    )
    assert container.pre_stop == SleepAction(5.0)


def test_parse_pod_spec_defaults() -> None:
    spec = parse_pod_spec({"spec": {"containers": [{"name": "a", "image": "python"}]}})

    assert (spec.restart_policy, spec.grace_s, spec.init_containers) == (
        RestartPolicy.ALWAYS,
        30,
        (),
    )


# -- back-off ------------------------------------------------------------------------


def test_backoff_first_restart_at_once_then_doubling_to_the_cap() -> None:
    backoff: Backoff | None = None
    finished_s = 1000.0
    waits = []
    for _ in range(7):
        due = restart_at(backoff, finished_s)
        waits.append(due - finished_s)
        backoff = advance(backoff, finished_s, 10.0, 60.0)
        finished_s = due + 1.0  # it crashes one second after each start

    assert waits == [0.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]


def test_backoff_resets_after_ten_minutes_between_exits() -> None:
    backoff = Backoff(delay_s=80.0, since_s=0.0)

    assert restart_at(backoff, 599.0) == 679.0
    assert restart_at(backoff, 601.0) == 601.0
    assert advance(backoff, 601.0, 10.0, 300.0) == Backoff(10.0, 601.0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "250ms"), (10.0, "10s"), (80.0, "1m20s"), (300.0, "5m0s"), (1.5, "1.5s")],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


# -- status --------------------------------------------------------------------------

T0 = 1_700_000_000.0
RUNNING = Running(T0)
EXIT0 = Terminated(0, "Completed", T0 + 5, T0)
EXIT1 = Terminated(1, "Error", T0 + 5, T0)
CRASH_WAIT = Waiting("CrashLoopBackOff")


def pod(*containers: ContainerView, policy: RestartPolicy = RestartPolicy.ALWAYS) -> PodView:
    return PodView(containers, policy, "127.150.1.2", "127.0.0.1", T0)


def container(state: Running | Waiting | Terminated, **fields: object) -> ContainerView:
    return ContainerView("app", "python", state, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("view", "phase"),
    [
        pytest.param(pod(container(Waiting("ContainerCreating"))), PodPhase.PENDING, id="new"),
        pytest.param(pod(container(Waiting("ImageNotMapped"))), PodPhase.PENDING, id="no-image"),
        pytest.param(pod(container(RUNNING)), PodPhase.RUNNING, id="running"),
        pytest.param(
            pod(container(CRASH_WAIT, last_state=EXIT1)), PodPhase.RUNNING, id="crash-loop"
        ),
        pytest.param(pod(container(EXIT0)), PodPhase.RUNNING, id="always-restarts"),
        pytest.param(
            pod(container(EXIT0), policy=RestartPolicy.NEVER), PodPhase.SUCCEEDED, id="never-0"
        ),
        pytest.param(
            pod(container(EXIT1), policy=RestartPolicy.NEVER), PodPhase.FAILED, id="never-1"
        ),
        pytest.param(
            pod(container(EXIT1), policy=RestartPolicy.ON_FAILURE),
            PodPhase.RUNNING,
            id="onfailure-1",
        ),
        pytest.param(
            PodView((container(EXIT0),), RestartPolicy.ALWAYS, None, "h", T0, terminal=True),
            PodPhase.SUCCEEDED,
            id="deleted-drained",
        ),
        pytest.param(
            PodView((container(EXIT1),), RestartPolicy.ALWAYS, None, "h", T0, terminal=True),
            PodPhase.FAILED,
            id="deleted-killed",
        ),
    ],
)
def test_pod_phase_like_upstream(view: PodView, phase: PodPhase) -> None:
    assert pod_phase(view) == phase


def test_render_running_unready_pod() -> None:
    view = pod(container(RUNNING, started=True, container_id="sandbox://42"))

    status = render_status(view, {}, T0 + 1)

    assert status == {
        "phase": "Running",
        "conditions": [
            {
                "type": "Initialized",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2023-11-14T22:13:21Z",
            },
            {
                "type": "Ready",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2023-11-14T22:13:21Z",
                "reason": "ContainersNotReady",
                "message": "containers with unready status: [app]",
            },
            {
                "type": "ContainersReady",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2023-11-14T22:13:21Z",
                "reason": "ContainersNotReady",
                "message": "containers with unready status: [app]",
            },
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2023-11-14T22:13:21Z",
            },
        ],
        "hostIP": "127.0.0.1",
        "hostIPs": [{"ip": "127.0.0.1"}],
        "podIP": "127.150.1.2",
        "podIPs": [{"ip": "127.150.1.2"}],
        "startTime": "2023-11-14T22:13:20Z",
        "containerStatuses": [
            {
                "name": "app",
                "image": "python",
                "imageID": "python",
                "ready": False,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2023-11-14T22:13:20Z"}},
                "lastState": {},
                "containerID": "sandbox://42",
            }
        ],
    }


def test_render_moves_transition_times_only_on_flips() -> None:
    unready = render_status(pod(container(RUNNING, started=True)), {}, T0 + 1)
    again = render_status(pod(container(RUNNING, started=True)), unready, T0 + 50)
    ready = render_status(pod(container(RUNNING, started=True, ready=True)), again, T0 + 60)

    def times(status: dict[str, object]) -> dict[str, str]:
        return {c["type"]: c["lastTransitionTime"] for c in status["conditions"]}  # type: ignore[attr-defined]

    assert again == unready
    assert times(ready) == {
        "Initialized": "2023-11-14T22:13:21Z",
        "Ready": "2023-11-14T22:14:20Z",
        "ContainersReady": "2023-11-14T22:14:20Z",
        "PodScheduled": "2023-11-14T22:13:21Z",
    }


def test_render_unschedulable_pod_then_its_binding() -> None:
    message = "0/1 nodes are available: 1 Insufficient cpu."
    waiting = PodView(
        (container(Waiting("ContainerCreating")),), RestartPolicy.ALWAYS, None, "h", T0
    )
    unscheduled = render_status(replace(waiting, unschedulable=message), {}, T0 + 1)
    bound = render_status(waiting, unscheduled, T0 + 21)

    assert unscheduled == {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2023-11-14T22:13:21Z",
                "reason": "Unschedulable",
                "message": message,
            }
        ],
    }
    scheduled = {c["type"]: c for c in bound["conditions"]}["PodScheduled"]
    assert (scheduled["status"], scheduled["lastTransitionTime"]) == (
        "True",
        "2023-11-14T22:13:41Z",
    )
    assert bound["phase"] == "Pending"


def test_an_unschedulable_pod_keeps_the_conditions_others_patched_in() -> None:
    gate = {"type": "example.com/lb-ready", "status": "False", "reason": "Registering"}
    waiting = PodView(
        (container(Waiting("ContainerCreating")),), RestartPolicy.ALWAYS, None, "h", T0
    )
    stored = {"phase": "Pending", "conditions": [gate]}

    unscheduled = render_status(replace(waiting, unschedulable="0/1 nodes"), stored, T0 + 1)

    types = [c["type"] for c in unscheduled["conditions"]]
    assert types == ["example.com/lb-ready", "PodScheduled"]
    assert unscheduled["conditions"][0] == gate


def test_render_crash_loop_shows_waiting_and_last_termination() -> None:
    crashed = Terminated(3, "Error", T0 + 2, T0 + 1, "sandbox://7")
    view = pod(container(Waiting("CrashLoopBackOff", "back-off 10s"), last_state=crashed))

    [status] = render_status(view, {}, T0 + 3)["containerStatuses"]

    assert status["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}}
    assert status["lastState"] == {
        "terminated": {
            "exitCode": 3,
            "reason": "Error",
            "startedAt": "2023-11-14T22:13:21Z",
            "finishedAt": "2023-11-14T22:13:22Z",
            "containerID": "sandbox://7",
        }
    }


GATE = "target-health.elbv2.k8s.aws/order"


def gated(ready: bool = True) -> PodView:
    running = pod(container(RUNNING, started=True, ready=ready))
    return replace(running, readiness_gates=(GATE,))


def gate(status: str) -> dict[str, object]:
    return {"type": GATE, "status": status, "lastTransitionTime": "2023-11-14T22:13:30Z"}


def ready_of(status: dict[str, Any]) -> tuple[str, str | None, str | None]:
    [ready] = [c for c in status["conditions"] if c["type"] == "Ready"]
    return ready["status"], ready.get("reason"), ready.get("message")


@pytest.mark.parametrize(
    ("view", "conditions", "ready"),
    [
        pytest.param(
            gated(),
            [],
            (
                "False",
                "ReadinessGatesNotReady",
                f'corresponding condition of pod readiness gate "{GATE}" does not exist.',
            ),
            id="gate-condition-missing",
        ),
        pytest.param(
            gated(),
            [gate("False")],
            (
                "False",
                "ReadinessGatesNotReady",
                f'the status of pod readiness gate "{GATE}" is not "True", but False',
            ),
            id="gate-false",
        ),
        pytest.param(gated(), [gate("True")], ("True", None, None), id="gate-true"),
        pytest.param(
            gated(ready=False),
            [gate("True")],
            ("False", "ContainersNotReady", "containers with unready status: [app]"),
            id="containers-first",
        ),
    ],
)
def test_ready_waits_for_every_readiness_gate(
    view: PodView, conditions: list[dict[str, object]], ready: tuple[str, str | None, str | None]
) -> None:
    status = render_status(view, {"conditions": conditions}, T0 + 1)

    assert ready_of(status) == ready
    containers_ready = [c for c in status["conditions"] if c["type"] == "ContainersReady"]
    assert containers_ready[0]["status"] == ("True" if view.containers[0].ready else "False")


def test_conditions_others_patched_in_are_kept_ahead_of_the_kubelets() -> None:
    previous = render_status(gated(), {}, T0 + 1)
    previous["conditions"].insert(2, gate("True"))

    status = render_status(gated(), previous, T0 + 2)

    assert [c["type"] for c in status["conditions"]] == [
        GATE,
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert status["conditions"][0] == gate("True")
