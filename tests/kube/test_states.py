"""The pure core: pod transitions, the kubectl rollout rule, endpoint semantics."""

from __future__ import annotations

import math
from typing import Any

import pytest

from slagate.kube.bodies import LabelSelector, selector_text
from slagate.kube.states import (
    Endpoint,
    PodState,
    RolloutPhase,
    SliceState,
    hpa_values,
    pod_state,
    pod_transitions,
    rollout_progress,
    service_endpoints,
    slice_state,
)

POD = PodState("p", "u1", "Running", True, False, "10.0.0.1", "rs", "aaa", 0, False, 0.0)


@pytest.mark.parametrize(
    ("old", "new", "transitions"),
    [
        pytest.param(None, POD, ["added"], id="added"),
        pytest.param(POD, POD, [], id="unchanged"),
        pytest.param(POD._replace(phase="Pending", ready=False), POD, ["phase", "ready"], id="up"),
        pytest.param(
            POD, POD._replace(deleting=True, ready=False), ["deleting", "unready"], id="down"
        ),
        pytest.param(POD, POD._replace(restarts=3), ["restarted"], id="restart-only"),
        pytest.param(POD._replace(restarts=3), POD, [], id="restart-count-reset"),
    ],
)
def test_pod_transitions(old: PodState | None, new: PodState, transitions: list[str]) -> None:
    assert pod_transitions(old, new) == transitions


def test_pod_state_reads_owner_hash_and_restarts() -> None:
    body = {
        "metadata": {
            "name": "p",
            "uid": "u1",
            "labels": {"pod-template-hash": "aaa"},
            "ownerReferences": [
                {"kind": "Node", "name": "n"},
                {"kind": "ReplicaSet", "name": "rs", "controller": True},
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.1",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"restartCount": 1}, {"restartCount": 2}],
        },
    }
    assert pod_state(body) == POD._replace(restarts=3)


def test_pod_state_keeps_the_latest_termination_and_its_messages_end() -> None:
    log = "line\n" * 100 + "Traceback ... KeyError: 'PRODUCT_SERVICE_HOST'"
    earlier = {"exitCode": 2, "finishedAt": "2026-01-01T00:00:01Z"}
    later = {"exitCode": 1, "message": log, "finishedAt": "2026-01-01T00:00:09Z"}
    statuses = [
        {"restartCount": 1, "lastState": {"terminated": earlier}},
        {"restartCount": 4, "lastState": {"terminated": later}},
        {"restartCount": 0, "lastState": {}},
    ]
    state = pod_state({"metadata": {"name": "p"}, "status": {"containerStatuses": statuses}})
    assert state.last_exit_code == 1
    assert state.last_message is not None and len(state.last_message) == 300
    assert state.last_message.endswith("line Traceback ... KeyError: 'PRODUCT_SERVICE_HOST'")
    assert pod_state({"metadata": {"name": "p"}}).last_exit_code is None


def _containers(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "spec": {"containers": list(containers)}}


SLEEP_2 = {"preStop": {"sleep": {"seconds": 2}}}
PROBE = {"httpGet": {"path": "/ready", "port": 8080}}


@pytest.mark.parametrize(
    ("body", "readiness_probe", "prestop_s"),
    [
        pytest.param(_containers({"name": "app"}), False, 0.0, id="neither"),
        pytest.param(_containers({"name": "app", "lifecycle": SLEEP_2}), False, 2.0, id="sleep"),
        pytest.param(
            _containers({"name": "app"}, {"name": "proxy", "readinessProbe": PROBE}),
            True,
            0.0,
            id="probe-on-a-sidecar",
        ),
        pytest.param(
            _containers({"name": "app"}, {"name": "proxy", "lifecycle": SLEEP_2}),
            False,
            0.0,
            id="prestop-of-the-first-container-only",
        ),
        pytest.param({"metadata": {"name": "p"}}, False, 0.0, id="no-spec"),
    ],
)
def test_pod_state_reads_probe_and_prestop_sleep(
    body: dict[str, Any], readiness_probe: bool, prestop_s: float
) -> None:
    state = pod_state(body)
    assert (state.readiness_probe, state.prestop_s) == (readiness_probe, prestop_s)


def test_a_prestop_hook_that_is_no_sleep_is_unknown() -> None:
    hook = {"preStop": {"exec": {"command": ["sh", "-c", "sleep 5"]}}}
    assert math.isnan(pod_state(_containers({"name": "app", "lifecycle": hook})).prestop_s)


def _deployment(generation: int = 2, **status: Any) -> dict[str, Any]:
    base = {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": 3},
        "status": {**base, **status},
    }


@pytest.mark.parametrize(
    ("body", "phase", "message"),
    [
        pytest.param(
            _deployment(),
            RolloutPhase.COMPLETE,
            'deployment "web" successfully rolled out',
            id="done",
        ),
        pytest.param(
            _deployment(generation=3),
            RolloutPhase.PROGRESSING,
            "Waiting for deployment spec update to be observed...",
            id="unobserved",
        ),
        pytest.param(
            _deployment(updatedReplicas=1),
            RolloutPhase.PROGRESSING,
            "1 out of 3 new replicas have been updated...",
            id="updating",
        ),
        pytest.param(
            _deployment(replicas=4),
            RolloutPhase.PROGRESSING,
            "1 old replicas are pending termination...",
            id="old-replicas",
        ),
        pytest.param(
            _deployment(availableReplicas=2),
            RolloutPhase.PROGRESSING,
            "2 of 3 updated replicas are available...",
            id="unavailable",
        ),
        pytest.param(
            _deployment(conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]),
            RolloutPhase.DEADLINE_EXCEEDED,
            'deployment "web" exceeded its progress deadline',
            id="deadline",
        ),
    ],
)
def test_rollout_progress_follows_kubectl(
    body: dict[str, Any], phase: RolloutPhase, message: str
) -> None:
    status = rollout_progress(body)
    assert status.phase is phase
    assert status.message.endswith(message)


def test_unset_endpoint_conditions_follow_upstream() -> None:
    body = {
        "metadata": {"name": "s", "labels": {"kubernetes.io/service-name": "web"}},
        "endpoints": [
            {"addresses": ["10.0.0.1"]},
            {"addresses": ["10.0.0.2"], "conditions": {"ready": False}},
        ],
    }
    assert slice_state(body) == SliceState(
        "web", (Endpoint("10.0.0.1", True, True, False), Endpoint("10.0.0.2", False, False, False))
    )


def test_an_endpoint_in_two_slices_counts_once() -> None:
    endpoint = Endpoint("p1", True, True, False)
    counts = service_endpoints([SliceState("web", (endpoint,)), SliceState("web", (endpoint,))])
    assert counts == (1, 1, 0, "p1", "")


def test_selector_text_as_kubectl_sends_it() -> None:
    selector: LabelSelector = {
        "matchLabels": {"tier": "web", "app": "order"},
        "matchExpressions": [
            {"key": "track", "operator": "In", "values": ["stable", "canary"]},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert selector_text(selector) == "app=order,tier=web,track in (stable,canary),!legacy"


def resource(name: str, target: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


def current(name: str, **values: Any) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "current": values}}


CPU_50 = resource("cpu", {"type": "Utilization", "averageUtilization": 50})
MEMORY_100MI = resource("memory", {"type": "AverageValue", "averageValue": "100Mi"})


@pytest.mark.parametrize(
    ("metrics", "currents", "leading"),
    [
        pytest.param([CPU_50], [current("cpu", averageUtilization=40)], ("cpu", 40.0, 50.0)),
        pytest.param(
            [CPU_50, MEMORY_100MI],
            [current("cpu", averageUtilization=40), current("memory", averageValue="150Mi")],
            ("memory average value", 150.0, 100.0),
            id="memory-leads-at-150-percent-of-its-average-value",
        ),
        pytest.param(
            [CPU_50, MEMORY_100MI],
            [current("cpu", averageUtilization=90), current("memory", averageValue="150Mi")],
            ("cpu", 90.0, 50.0),
            id="cpu-leads-at-180-percent-of-its-target",
        ),
        pytest.param([CPU_50, MEMORY_100MI], [], ("cpu", None, 50.0), id="not-measured-yet"),
        pytest.param(
            [{"type": "Pods", "pods": {}}, MEMORY_100MI],
            [current("memory", averageValue="50Mi")],
            ("memory average value", 50.0, 100.0),
            id="pods-metrics-are-not-recorded",
        ),
        pytest.param([], [], (None, None, None), id="no-resource-metric"),
    ],
)
def test_an_hpa_records_its_leading_metric(
    metrics: list[dict[str, Any]],
    currents: list[dict[str, Any]],
    leading: tuple[str | None, float | None, float | None],
) -> None:
    hpa = {"spec": {"metrics": metrics}, "status": {"currentMetrics": currents}}

    values = hpa_values(hpa)

    assert (values.metric_name, values.metric_value, values.metric_target) == leading
