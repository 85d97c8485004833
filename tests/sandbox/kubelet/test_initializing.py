"""Which init container is due, when a pod is initialized, and how its status reads:
pure decisions (``initializing``, ``status``) over container views."""

from __future__ import annotations

import pytest

from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.kubelet.initializing import (
    due_init,
    failed_for_good,
    incomplete,
    init_policy,
)
from slagate.sandbox.kubelet.specs import RestartPolicy, parse_pod_spec
from slagate.sandbox.kubelet.status import (
    ContainerView,
    PodView,
    Running,
    Terminated,
    Waiting,
    pod_phase,
    render_status,
)

T0 = 1_700_000_000.0
WAITING = Waiting("PodInitializing")
RUNNING = Running(T0)
EXIT0 = Terminated(0, "Completed", T0 + 1, T0)
EXIT1 = Terminated(1, "Error", T0 + 1, T0)


def view(name: str, state: Waiting | Running | Terminated, **fields: object) -> ContainerView:
    return ContainerView(name, "python", state, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("views", "due"),
    [
        pytest.param([], 0, id="none: initialized at once"),
        pytest.param([view("a", WAITING), view("b", WAITING)], 0, id="first-first"),
        pytest.param([view("a", RUNNING), view("b", WAITING)], 0, id="running-awaited"),
        pytest.param([view("a", EXIT0), view("b", WAITING)], 1, id="exit-0-next"),
        pytest.param([view("a", EXIT1), view("b", WAITING)], 0, id="exit-1-held"),
        pytest.param([view("a", EXIT0), view("b", EXIT0)], 2, id="all-done"),
        pytest.param(
            [view("mesh", RUNNING, sidecar=True), view("b", WAITING)], 0, id="sidecar-not-started"
        ),
        pytest.param(
            [view("mesh", RUNNING, sidecar=True, started=True), view("b", WAITING)],
            1,
            id="sidecar-started-not-awaited",
        ),
        pytest.param(
            [view("mesh", EXIT0, sidecar=True)], 0, id="sidecar-that-exited-is-not-started"
        ),
    ],
)
def test_due_init_follows_upstream_order(views: list[ContainerView], due: int) -> None:
    assert due_init(views) == due


@pytest.mark.parametrize(
    ("sidecar", "pod_policy", "policy"),
    [
        (True, RestartPolicy.NEVER, RestartPolicy.ALWAYS),
        (False, RestartPolicy.ALWAYS, RestartPolicy.ON_FAILURE),
        (False, RestartPolicy.ON_FAILURE, RestartPolicy.ON_FAILURE),
        (False, RestartPolicy.NEVER, RestartPolicy.NEVER),
    ],
)
def test_init_policy(sidecar: bool, pod_policy: RestartPolicy, policy: RestartPolicy) -> None:
    assert init_policy(sidecar, pod_policy) is policy


def test_only_a_regular_init_failure_under_never_fails_the_pod() -> None:
    assert failed_for_good(view("a", EXIT1), RestartPolicy.NEVER)
    assert not failed_for_good(view("a", EXIT1), RestartPolicy.ON_FAILURE)
    assert not failed_for_good(view("a", EXIT0), RestartPolicy.NEVER)
    assert not failed_for_good(view("m", EXIT1, sidecar=True), RestartPolicy.NEVER)


def test_incomplete_names_what_initialization_waits_for() -> None:
    views = [view("a", EXIT0), view("mesh", RUNNING, sidecar=True), view("c", WAITING)]

    assert incomplete(views) == ["mesh", "c"]


def pod(inits: tuple[ContainerView, ...], app: ContainerView, initializing: bool = True) -> PodView:
    waiting_for = tuple(incomplete(inits)) if initializing else ()
    failed = any(failed_for_good(v, RestartPolicy.NEVER) for v in inits)
    return PodView(
        (app,),
        RestartPolicy.NEVER,
        "127.150.1.2",
        "127.0.0.1",
        T0,
        init_containers=inits,
        incomplete_inits=waiting_for,
        init_failed=failed,
    )


def test_an_initializing_pod_is_pending_and_says_what_it_waits_for() -> None:
    inits = (view("migrate", RUNNING), view("seed", WAITING))

    status = render_status(pod(inits, view("app", WAITING)), {}, T0)

    assert pod_phase(pod(inits, view("app", WAITING))) is PodPhase.PENDING
    initialized = status["conditions"][0]
    assert (initialized["type"], initialized["status"]) == ("Initialized", "False")
    assert initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [migrate seed]"
    states = [next(iter(s["state"])) for s in status["initContainerStatuses"]]
    assert states == ["running", "waiting"]
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}


def test_a_failed_init_container_under_never_fails_the_pod() -> None:
    failed = pod((view("migrate", EXIT1),), view("app", WAITING))

    assert pod_phase(failed) is PodPhase.FAILED


def test_a_sidecars_readiness_counts_for_the_pods() -> None:
    mesh = view("mesh", RUNNING, sidecar=True, started=True, ready=False)
    app = view("app", RUNNING, started=True, ready=True)

    status = render_status(pod((mesh,), app, initializing=False), {}, T0)

    ready = status["conditions"][1]
    assert (ready["type"], ready["status"]) == ("Ready", "False")
    assert ready["message"] == "containers with unready status: [mesh]"
    assert status["conditions"][0]["status"] == "True"


def test_parse_marks_init_containers_with_restart_policy_always_as_sidecars() -> None:
    spec = parse_pod_spec(
        {
            "spec": {
                "initContainers": [
                    {"name": "migrate", "image": "python"},
                    {"name": "mesh", "image": "python", "restartPolicy": "Always"},
                ],
                "containers": [{"name": "app", "image": "python"}],
            }
        }
    )

    assert [(c.name, c.sidecar) for c in spec.init_containers] == [
        ("migrate", False),
        ("mesh", True),
    ]
