"""Init containers and native sidecars on the kubelet, with real processes.

Upstream semantics (``initializing``): init containers one at a time, each to exit 0
before the next, the app containers after all of them; a failure restarts the init
container with back-off (``Always``/``OnFailure`` pods) or fails the pod (``Never``);
a native sidecar (``restartPolicy: Always``) is only started, kept beside the app and
stopped after it. Waits follow the store's watch, with deadlines; no sleeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.kubelet import Kubelet
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import EVENTS, PODS
from slagate.sandbox.objects.selection import Selection
from tests.sandbox.kubelet import test_processes as base
from tests.sandbox.kubelet.test_processes import (
    NS,
    condition,
    container_status,
    gone,
    make_pod,
    python,
    recorder,
    running,
    sleeper,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.e2e
settings, store, state_dir, kubelet = base.settings, base.store, base.state_dir, base.kubelet

# Appends argv[2] to the file argv[1] once the file argv[3] exists ("-": at once), then
# exits with the code argv[4] (negative: stays).
STEP = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
from pathlib import Path
log, name, gate, code = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
while gate != "-" and not Path(gate).exists():
    time.sleep(0.02)
with log.open("a") as out:
    out.write(name + "\\n")
sys.exit(code) if code >= 0 else time.sleep(60)
"""


def step(name: str, log: Path, gate: Path | None = None, code: int = 0) -> dict[str, Any]:
    return python(name, "-c", STEP, str(log), name, str(gate or "-"), str(code))


def init_status(pod: RawObject | None, index: int) -> dict[str, Any]:
    statuses = (pod or {}).get("status", {}).get("initContainerStatuses") or []
    return statuses[index] if index < len(statuses) else {}


def state_of(status: dict[str, Any]) -> str:
    return next(iter(status.get("state") or {"none": 0}))


def test_init_containers_run_one_by_one_to_completion_before_the_app(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    log, gate = tmp_path / "order", tmp_path / "gate"
    inits = [step("first", log, gate), step("second", log)]
    app = step("app", log, code=-1)  # it stays
    store.create(PODS, make_pod("init", app, initContainers=inits), NS)

    waiting = wait_for(store, "init", lambda p: state_of(init_status(p, 0)) == "running")
    assert waiting is not None
    assert waiting["status"]["phase"] == "Pending"
    assert condition(waiting, "Initialized") == "False"
    initialized = next(c for c in waiting["status"]["conditions"] if c["type"] == "Initialized")
    assert initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [first second]"
    assert init_status(waiting, 1)["state"]["waiting"]["reason"] == "PodInitializing"
    assert container_status(waiting)["state"]["waiting"]["reason"] == "PodInitializing"

    gate.touch()
    pod = wait_for(store, "init", running)

    assert log.read_text().split() == ["first", "second"]  # the app has not written yet
    wait_until(lambda: log.read_text().split() == ["first", "second", "app"])
    for index in (0, 1):
        done = init_status(pod, index)
        assert done["state"]["terminated"]["exitCode"] == 0
        assert (done["state"]["terminated"]["reason"], done["ready"]) == ("Completed", True)
    assert condition(pod, "Initialized") == "True"
    assert pod is not None and pod["status"]["phase"] == "Running"
    # each container's events name it where it is declared, from the pod (Pulling) and
    # from the container's own worker (Started)
    for reason in ("Pulling", "Started"):
        paths = {
            e["involvedObject"].get("fieldPath")
            for e in store.list(Selection(EVENTS, NS)).items
            if e["reason"] == reason and e["involvedObject"]["name"] == "init"
        }
        assert paths == {
            "spec.initContainers{first}",
            "spec.initContainers{second}",
            "spec.containers{app}",
        }, reason


def test_a_failing_init_container_crash_loops_and_holds_the_app(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    log = tmp_path / "order"
    pod = make_pod("crashing", sleeper(), initContainers=[step("setup", log, code=3)])
    store.create(PODS, pod, NS)

    looping = wait_for(
        store,
        "crashing",
        lambda p: (
            init_status(p, 0).get("state", {}).get("waiting", {}).get("reason")
            == "CrashLoopBackOff"
            and init_status(p, 0)["restartCount"] >= 1
        ),
    )

    assert looping is not None
    assert init_status(looping, 0)["lastState"]["terminated"]["exitCode"] == 3
    assert looping["status"]["phase"] == "Pending"
    assert container_status(looping)["state"]["waiting"]["reason"] == "PodInitializing"
    assert len(log.read_text().split()) >= 2  # it ran again


def test_a_failing_init_container_fails_a_pod_that_never_restarts(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    log = tmp_path / "order"
    inits = [step("setup", log, code=3), step("never", log)]
    pod = make_pod("once", sleeper(), initContainers=inits, restartPolicy="Never")
    store.create(PODS, pod, NS)

    failed = wait_for(store, "once", lambda p: (p or {}).get("status", {}).get("phase") == "Failed")

    assert init_status(failed, 0)["state"]["terminated"]["exitCode"] == 3
    assert container_status(failed)["state"]["waiting"]["reason"] == "PodInitializing"
    assert log.read_text().split() == ["setup"]  # neither the next init nor the app ran


def test_native_sidecar_starts_first_runs_beside_the_app_and_stops_after_it(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    side, app, flag = tmp_path / "side", tmp_path / "app", tmp_path / "started"
    check = f"import os, sys; sys.exit(0 if os.path.exists({str(flag)!r}) else 1)"
    startup = {"exec": {"command": ["python", "-c", check]}, "periodSeconds": 1}
    sidecar = recorder(side, restartPolicy="Always", startupProbe=startup)
    sidecar["name"] = "proxy"
    pod = make_pod("meshed", recorder(app), initContainers=[sidecar])
    store.create(PODS, pod, NS)

    held = wait_for(store, "meshed", lambda p: state_of(init_status(p, 0)) == "running")
    wait_until(Path(f"{side}.armed").exists)
    assert held is not None
    assert not Path(f"{app}.armed").exists()  # its startupProbe has not passed yet
    flag.touch()
    both = wait_for(store, "meshed", running)
    wait_until(Path(f"{app}.armed").exists)
    assert state_of(init_status(both, 0)) == "running"  # kept beside the app
    assert init_status(both, 0)["started"] is True

    store.delete(PODS, NS, "meshed")
    wait_for(store, "meshed", gone, timeout_s=15)

    assert float(app.read_text()) < float(side.read_text())  # the app got SIGTERM first
