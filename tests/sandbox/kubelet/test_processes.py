"""The kubelet with a real ObjectStore and real processes on loopback.

Every test starts its own kubelet on a random pod network and stops it afterwards;
waits follow the store's watch (no sleeps) or, for files and CPU samples, poll briefly,
always with a deadline.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from slagate.children import child_environment
from slagate.sandbox.apiserver.deleting import DeleteOptions
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.kubelet import Kubelet, PodNetwork
from slagate.sandbox.objects.bodies import RawObject, name_of
from slagate.sandbox.objects.resources import EVENTS, PODS, SERVICES
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings

pytestmark = pytest.mark.e2e

NS = "default"
SHOP_IMAGE = "ghcr.io/slagate/slagate-shop:0.1"
POD_IP_ENV = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
# Records when SIGTERM arrives (epoch seconds) in argv[1]; exits unless argv[2] == "stay".
# The kubelet runs each container as PID 1 of its own PID namespace, where the kernel
# drops a signal the process has no handler for: like any well-behaved container program,
# the test programs that should stop on SIGTERM install a handler (exit 143, the code of a
# process killed by SIGTERM); without one they would last their whole grace period. One
# SIGTERMed before its handler is set ignores it too, so test pods get a short grace
# period unless they set one (``make_pod``): a teardown right after a start stays short.
STOPS_ON_SIGTERM = "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))\n"
TEST_GRACE_S = 2
SLEEP = STOPS_ON_SIGTERM + "import time; time.sleep(60)"
SPIN = STOPS_ON_SIGTERM + "while True: pass"
SIGTERM_RECORDER = """
import signal, sys, time
from pathlib import Path
out, stay = Path(sys.argv[1]), sys.argv[2] == "stay"
def on_term(*_):
    out.write_text(repr(time.time()))
    if not stay:
        sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
Path(str(out) + ".armed").touch()
while True:
    time.sleep(0.05)
"""


@pytest.fixture
def settings() -> SandboxSettings:
    return SandboxSettings(
        metrics_resolution_s=0.2,
        crashloop_backoff_initial_s=0.2,
        crashloop_backoff_max_s=0.4,
        image_pull_backoff_initial_s=0.2,
        image_pull_backoff_max_s=0.4,
    )


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def kubelet(store: ObjectStore, settings: SandboxSettings, state_dir: Path) -> Iterator[Kubelet]:
    with Kubelet(store, settings, state_dir, PodNetwork.random()) as running:
        yield running


# -- helpers ---------------------------------------------------------------------------


def make_pod(name: str, *containers: dict[str, Any], **spec: Any) -> RawObject:
    spec.setdefault("terminationGracePeriodSeconds", TEST_GRACE_S)
    return {"metadata": {"name": name}, "spec": {"containers": list(containers), **spec}}


def python(name: str = "app", *command: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "python:3.12", "command": ["python", *command], **fields}


def sleeper(**fields: Any) -> dict[str, Any]:
    return python("app", "-c", SLEEP, **fields)


def http_server(**fields: Any) -> dict[str, Any]:
    serve = "import runpy; sys.argv[1:1] = ['--bind', '$(POD_IP)', '8000']; "
    serve += "runpy.run_module('http.server', run_name='__main__')"
    return python(
        "web",
        "-c",
        STOPS_ON_SIGTERM + serve,
        env=[POD_IP_ENV],
        ports=[{"name": "http", "containerPort": 8000}],
        **fields,
    )


def recorder(out: Path, mode: str = "exit", **fields: Any) -> dict[str, Any]:
    return python("app", "-c", SIGTERM_RECORDER, str(out), mode, **fields)


def wait_for(
    store: ObjectStore,
    name: str,
    holds: Callable[[RawObject | None], bool],
    timeout_s: float = 10.0,
) -> RawObject | None:
    """The pod (None once gone) as soon as ``holds`` is true of it, following the watch."""
    snapshot = store.list(Selection(PODS, NS))
    current = next((p for p in snapshot.items if name_of(p) == name), None)
    if holds(current):
        return current
    deadline = time.monotonic() + timeout_s
    with store.watch(Selection(PODS, NS), since=snapshot.revision) as watcher:
        while (remaining := deadline - time.monotonic()) > 0:
            for event in watcher.poll(remaining):
                if name_of(event.object) == name:
                    current = None if event.type is EventType.DELETED else event.object
                    if holds(current):
                        return current
    raise AssertionError(f"pod {name} did not get there in {timeout_s} s; last seen: {current}")


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not true within {timeout_s} s"
        time.sleep(0.02)


def container_status(pod: RawObject | None, index: int = 0) -> dict[str, Any]:
    statuses = (pod or {}).get("status", {}).get("containerStatuses") or [{}]
    return statuses[index] if index < len(statuses) else {}


def condition(pod: RawObject | None, type_: str) -> str | None:
    for entry in (pod or {}).get("status", {}).get("conditions") or []:
        if entry["type"] == type_:
            return str(entry["status"])
    return None


def running(pod: RawObject | None) -> bool:
    return "running" in container_status(pod).get("state", {})


def waiting_reason(pod: RawObject | None) -> str | None:
    reason = container_status(pod).get("state", {}).get("waiting", {}).get("reason")
    return str(reason) if reason else None


def ready(pod: RawObject | None) -> bool:
    return condition(pod, "Ready") == "True"


def gone(pod: RawObject | None) -> bool:
    return pod is None


def pid_of(pod: RawObject | None, index: int = 0) -> int:
    return int(container_status(pod, index)["containerID"].removeprefix("sandbox://"))


def events(store: ObjectStore, name: str) -> list[tuple[str, str, int]]:
    items = store.list(Selection(EVENTS, NS)).items
    return [
        (e["reason"], e["message"], e["count"])
        for e in items
        if e["involvedObject"]["name"] == name
    ]


# -- starting and readiness ------------------------------------------------------------


def test_http_server_pod_runs_on_its_ip_and_becomes_ready(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    readiness = {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1}
    store.create(PODS, make_pod("web", http_server(readinessProbe=readiness)), NS)

    pod = wait_for(store, "web", ready)

    assert pod is not None
    status = pod["status"]
    assert status["phase"] == "Running"
    assert ipaddress.ip_address(status["podIP"]) in kubelet.pod_network.network
    assert status["podIPs"] == [{"ip": status["podIP"]}]
    assert status["hostIP"] == "127.0.0.1"
    assert pod["spec"]["nodeName"] == "slagate-sandbox"
    assert container_status(pod)["ready"] is True
    assert container_status(pod)["started"] is True
    assert [c["type"] for c in status["conditions"]] == [
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    reasons = [reason for reason, _, _ in events(store, "web")]
    # bound, the image pulled (the settings' pull delay), then the container started
    assert reasons[:5] == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]


def test_ready_pod_status_is_not_rewritten_while_nothing_changes(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    readiness = {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 1}
    store.create(PODS, make_pod("web", http_server(readinessProbe=readiness)), NS)
    pod = wait_for(store, "web", ready)
    assert pod is not None

    with store.watch(Selection(PODS, NS), since=pod["metadata"]["resourceVersion"]) as watcher:
        writes = watcher.poll(2.2)  # two more successful probes

    assert writes == []


def test_container_without_readiness_probe_is_ready_once_started(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    store.create(PODS, make_pod("plain", sleeper()), NS)

    pod = wait_for(store, "plain", ready, timeout_s=5)

    assert container_status(pod)["started"] is True


def test_shop_pod_is_not_ready_during_its_startup_delay_then_ready(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    shop = {
        "name": "product",
        "image": SHOP_IMAGE,
        "args": [
            *("product", "--host", "$(POD_IP)", "--port", "8080"),
            *("--db", str(tmp_path / "shop.db"), "--startup-delay", "2"),
        ],
        "env": [POD_IP_ENV],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 8080}, "periodSeconds": 1},
    }
    created_at = time.monotonic()
    store.create(PODS, make_pod("product", shop), NS)

    starting = wait_for(store, "product", running)
    became_ready = wait_for(store, "product", ready, timeout_s=15)
    ready_after_s = time.monotonic() - created_at

    assert condition(starting, "Ready") == "False"
    assert ready_after_s >= 2.0  # the startup delay counts from after the pod was created
    assert container_status(became_ready)["state"]["running"]
    failures = [m for r, m, _ in events(store, "product") if r == "Unhealthy"]
    assert failures and all(m.startswith("Readiness probe failed: ") for m in failures)


def test_a_completed_pod_gives_its_node_room_back(store: ObjectStore, state_dir: Path) -> None:
    """Upstream's scheduler watches only pods that are not Succeeded or Failed: a
    completed pod's request is free for the next one, though its object stays."""
    settings = SandboxSettings(node_cpu_m=200, pod_scheduling_delay_s=0.0)
    requests = {"requests": {"cpu": "150m"}}
    job = python("app", "-c", "print('done')", resources=requests)
    server = sleeper(resources=requests)
    with Kubelet(store, settings, state_dir, PodNetwork.random()):
        store.create(PODS, make_pod("job", job, restartPolicy="Never"), NS)
        wait_for(store, "job", lambda p: (p or {}).get("status", {}).get("phase") == "Succeeded")
        store.create(PODS, make_pod("server", server), NS)

        running = wait_for(
            store, "server", lambda p: (p or {}).get("status", {}).get("phase") == "Running"
        )

    assert running is not None  # bound to the node the job had, and started
    assert store.get(PODS, NS, "job")["status"]["phase"] == "Succeeded"  # still there
    assert not [m for r, m, _ in events(store, "server") if r == "FailedScheduling"]


def test_env_fieldrefs_and_var_expansion_reach_the_process_and_its_log(
    kubelet: Kubelet, store: ObjectStore, state_dir: Path
) -> None:
    script = "import os, sys; print(sys.argv[1:], os.environ['GREETING'], os.getcwd())"
    container = python(
        "app",
        "-c",
        script,
        "$(GREETING)",
        "$$(GREETING)",
        "$(MISSING)",
        env=[
            {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GREETING", "value": "hello $(NAME)"},
        ],
    )
    store.create(PODS, make_pod("envy", container, restartPolicy="Never"), NS)

    pod = wait_for(store, "envy", lambda p: (p or {}).get("status", {}).get("phase") == "Succeeded")

    log = (state_dir / "pods" / "default_envy.log").read_text()
    assert log == f"['hello envy', '$(GREETING)', '$(MISSING)'] hello envy {state_dir}\n"
    assert container_status(pod)["state"]["terminated"]["reason"] == "Completed"


@pytest.mark.parametrize(("links", "expected"), [(True, "127.0.0.1:40123"), (False, "$(P)")])
def test_service_variables_hold_the_proxy_address(
    kubelet: Kubelet, store: ObjectStore, state_dir: Path, links: bool, expected: str
) -> None:
    service = store.create(
        SERVICES, {"metadata": {"name": "product"}, "spec": {"ports": [{"port": 80}]}}, NS
    )
    ingress = [{"ip": "127.0.0.1", "ports": [{"port": 40123, "protocol": "TCP"}]}]

    def publish(current: RawObject) -> RawObject:
        current["status"] = {"loadBalancer": {"ingress": ingress}}
        return current

    store.modify(SERVICES, NS, name_of(service), publish, subresource="status")
    script = "import sys; print(sys.argv[1])"
    url = "$(PRODUCT_SERVICE_HOST):$(PRODUCT_SERVICE_PORT)" if links else "$(P)"
    pod = make_pod("client", python("app", "-c", script, url), restartPolicy="Never")
    pod["spec"]["enableServiceLinks"] = links
    store.create(PODS, pod, NS)

    wait_for(store, "client", lambda p: (p or {}).get("status", {}).get("phase") == "Succeeded")

    assert (state_dir / "pods" / "default_client.log").read_text() == f"{expected}\n"


def test_two_containers_are_ready_together(kubelet: Kubelet, store: ObjectStore) -> None:
    readiness = {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 1}
    pod = make_pod("duo", http_server(readinessProbe=readiness), sleeper())
    store.create(PODS, pod, NS)

    ready_pod = wait_for(store, "duo", ready)

    names = [s["name"] for s in ready_pod["status"]["containerStatuses"]]  # type: ignore[index]
    assert names == ["web", "app"]
    assert pid_of(ready_pod, 0) != pid_of(ready_pod, 1)


def test_unknown_image_fails_to_pull_then_backs_off_like_upstream(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    """ErrImagePull, ImagePullBackOff at the next sync, a retry after the back-off (0.2 s
    here, doubling to 0.4 s): the reasons, messages and Events a real kubelet shows."""
    store.create(PODS, make_pod("nginx", {"name": "web", "image": "nginx:1.27"}), NS)

    pod = wait_for(store, "nginx", lambda p: waiting_reason(p) == "ErrImagePull")
    assert "nginx:1.27" in container_status(pod)["state"]["waiting"]["message"]
    assert pod["status"]["phase"] == "Pending"  # type: ignore[index]
    pod = wait_for(store, "nginx", lambda p: waiting_reason(p) == "ImagePullBackOff")
    waiting = container_status(pod)["state"]["waiting"]
    assert waiting["message"] == 'Back-off pulling image "nginx:1.27"'

    def pulled_twice(_: RawObject | None) -> bool:
        return any(r == "Pulling" and n >= 2 for r, _, n in events(store, "nginx"))

    wait_for(store, "nginx", pulled_twice)
    seen = {(r, m) for r, m, _ in events(store, "nginx")}
    assert ("Pulling", 'Pulling image "nginx:1.27"') in seen
    assert ("Failed", "Error: ErrImagePull") in seen
    assert ("BackOff", 'Back-off pulling image "nginx:1.27"') in seen
    assert ("Failed", "Error: ImagePullBackOff") in seen
    assert any(
        r == "Failed" and m.startswith('Failed to pull image "nginx:1.27": ') for r, m in seen
    )
    store.delete(PODS, NS, "nginx")
    wait_for(store, "nginx", gone, timeout_s=5)


def test_startup_probe_holds_readiness_until_it_passes(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    flag = tmp_path / "started"
    check = f"import os, sys; sys.exit(0 if os.path.exists({str(flag)!r}) else 1)"
    startup = {"exec": {"command": ["python", "-c", check]}, "periodSeconds": 1}
    store.create(PODS, make_pod("slow", sleeper(startupProbe=startup)), NS)
    before = wait_for(store, "slow", running)
    failing = wait_for(
        store, "slow", lambda p: any(r == "Unhealthy" for r, _, _ in events(store, "slow"))
    )

    flag.touch()
    after = wait_for(store, "slow", ready)

    assert (container_status(before)["started"], condition(before, "Ready")) == (False, "False")
    assert container_status(failing)["started"] is False
    assert container_status(after)["started"] is True


# -- restarts --------------------------------------------------------------------------


def test_crashing_container_goes_into_crash_loop_back_off(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    store.create(PODS, make_pod("crash", python("app", "-c", "import sys; sys.exit(3)")), NS)

    backing_off = wait_for(store, "crash", lambda p: waiting_reason(p) == "CrashLoopBackOff")
    wait_for(store, "crash", lambda p: container_status(p).get("restartCount", 0) >= 3)

    assert backing_off["status"]["phase"] == "Running"  # type: ignore[index]
    assert container_status(backing_off)["lastState"]["terminated"]["exitCode"] == 3
    assert container_status(backing_off)["state"]["waiting"]["message"].startswith(
        "back-off 200ms restarting failed container=app pod=crash_default("
    )
    [(_, message, count)] = [e for e in events(store, "crash") if e[0] == "BackOff"]
    assert message.startswith("Back-off restarting failed container app in pod crash_default(")
    assert count >= 2


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("FallbackToLogsOnError", "line 119\nKeyError: 'DB_URL'", id="log-tail"),
        pytest.param("File", None, id="file-policy-no-message"),
    ],
)
def test_a_failed_runs_message_is_its_logs_tail_with_fallback_to_logs_on_error(
    kubelet: Kubelet, store: ObjectStore, policy: str, expected: str | None
) -> None:
    script = (
        "import sys\n"
        "for i in range(120): print('line', i)\n"
        "print(\"KeyError: 'DB_URL'\", flush=True); sys.exit(1)"
    )
    container = python("app", "-c", script, terminationMessagePolicy=policy)
    store.create(PODS, make_pod("crash", container), NS)

    pod = wait_for(store, "crash", lambda p: container_status(p).get("restartCount", 0) >= 1)

    terminated = container_status(pod)["lastState"]["terminated"]
    assert terminated["exitCode"] == 1
    message = terminated.get("message")
    if expected is None:
        assert message is None
    else:
        assert message.endswith(expected)
        assert len(message.splitlines()) == 80  # upstream's tail: 80 lines, 2 KiB at most


@pytest.mark.parametrize(
    ("policy", "code", "phase", "reason"),
    [
        pytest.param("Never", 3, "Failed", "Error", id="never-fails"),
        pytest.param("OnFailure", 0, "Succeeded", "Completed", id="onfailure-succeeds"),
        pytest.param("Never", 0, "Succeeded", "Completed", id="never-succeeds"),
    ],
)
def test_restart_policy_ends_in_a_terminal_phase(
    kubelet: Kubelet, store: ObjectStore, policy: str, code: int, phase: str, reason: str
) -> None:
    container = python("app", "-c", f"import sys; sys.exit({code})")
    store.create(PODS, make_pod("job", container, restartPolicy=policy), NS)

    pod = wait_for(store, "job", lambda p: (p or {}).get("status", {}).get("phase") == phase)

    terminated = container_status(pod)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (code, reason)
    assert container_status(pod)["restartCount"] == 0
    assert condition(pod, "Ready") == "False"


def test_liveness_failure_kills_and_restarts_the_container(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    liveness = {
        "exec": {"command": ["python", "-c", "import sys; print('sick'); sys.exit(1)"]},
        "initialDelaySeconds": 1,
        "periodSeconds": 1,
        "failureThreshold": 1,
    }
    store.create(PODS, make_pod("sick", sleeper(livenessProbe=liveness)), NS)
    first = wait_for(store, "sick", running)

    restarted = wait_for(store, "sick", lambda p: container_status(p).get("restartCount", 0) >= 1)

    assert container_status(restarted)["lastState"]["terminated"]["exitCode"] == 143
    assert (
        not psutil.pid_exists(pid_of(first)) or psutil.Process(pid_of(first)).status() == "zombie"
    )
    reasons = {(r, m) for r, m, _ in events(store, "sick")}
    assert ("Killing", "Container app failed liveness probe, will be restarted") in reasons
    assert ("Unhealthy", "Liveness probe failed: sick") in reasons


# -- termination -------------------------------------------------------------------------


def test_prestop_sleep_delays_sigterm_and_the_object_goes_when_the_process_exits(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    out = tmp_path / "sigterm"
    hook = {"preStop": {"sleep": {"seconds": 1}}}
    pod = make_pod("drain", recorder(out, lifecycle=hook), terminationGracePeriodSeconds=30)
    store.create(PODS, pod, NS)
    wait_for(store, "drain", running)
    wait_until(Path(f"{out}.armed").exists)

    deleted_at = time.time()
    store.delete(PODS, NS, "drain")
    terminating = store.get(PODS, NS, "drain")
    wait_for(store, "drain", gone, timeout_s=5)
    gone_at = time.time()

    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    sigterm_after = float(out.read_text()) - deleted_at
    assert 0.9 <= sigterm_after <= 2.0
    assert gone_at - deleted_at <= 3.0
    reasons = [r for r, _, _ in events(store, "drain")]
    assert "Killing" in reasons


def test_readiness_is_still_probed_while_the_pod_terminates(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "ok").touch()
    readiness = {
        "httpGet": {"path": "/ok", "port": 8000},
        "periodSeconds": 1,
        "failureThreshold": 1,
    }
    server = http_server(readinessProbe=readiness, lifecycle={"preStop": {"sleep": {"seconds": 5}}})
    server["command"] += ["--directory", str(site)]
    store.create(PODS, make_pod("web", server, terminationGracePeriodSeconds=30), NS)
    wait_for(store, "web", ready)

    store.delete(PODS, NS, "web")
    (site / "ok").unlink()
    unready = wait_for(store, "web", lambda p: not ready(p), timeout_s=4)
    store.delete(PODS, NS, "web", DeleteOptions(grace_period_seconds=0))

    assert unready is not None
    assert unready["metadata"]["deletionTimestamp"]
    assert running(unready)  # still in its preStop sleep


def test_process_ignoring_sigterm_is_killed_when_the_grace_period_ends(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    out = tmp_path / "sigterm"
    pod = make_pod("stubborn", recorder(out, "stay"), terminationGracePeriodSeconds=1)
    store.create(PODS, pod, NS)
    wait_for(store, "stubborn", running)
    wait_until(Path(f"{out}.armed").exists)
    revision = store.revision

    deleted_at = time.time()
    store.delete(PODS, NS, "stubborn")
    wait_for(store, "stubborn", gone, timeout_s=6)
    gone_after = time.time() - deleted_at

    assert float(out.read_text()) - deleted_at < 1.0  # SIGTERM at once, no preStop
    assert 1.9 <= gone_after <= 3.5  # grace 1 s, but never less than 2 s (upstream minimum)
    with store.watch(Selection(PODS, NS), since=revision) as watcher:
        history = [e.object for e in watcher.poll(0.1) if e.type is EventType.MODIFIED]
    final = container_status(history[-1])["state"]["terminated"]
    assert (final["exitCode"], history[-1]["status"]["phase"]) == (137, "Failed")


@pytest.mark.parametrize(
    ("script", "drained"),
    [
        pytest.param("{app}", False, id="sh-c-forks-the-app"),
        pytest.param("exec {app}", True, id="sh-c-execs-the-app"),
    ],
)
def test_shell_entrypoint_drains_only_if_it_execs_the_app(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path, script: str, drained: bool
) -> None:
    if not kubelet.pid_isolation.available:
        pytest.skip(f"no PID namespaces here: {kubelet.pid_isolation.reason}")
    out, app = tmp_path / "sigterm", tmp_path / "app.py"
    app.write_text(SIGTERM_RECORDER)
    command = ["sh", "-c", script.format(app=f"{sys.executable} {app} {out} exit")]
    container = {"name": "app", "image": "python:3.12", "command": command}
    store.create(PODS, make_pod("shell", container, terminationGracePeriodSeconds=2), NS)
    wait_for(store, "shell", running)
    wait_until(Path(f"{out}.armed").exists)
    revision = store.revision

    deleted_at = time.time()
    store.delete(PODS, NS, "shell")
    wait_for(store, "shell", gone, timeout_s=8)
    gone_after = time.time() - deleted_at

    with store.watch(Selection(PODS, NS), since=revision) as watcher:
        history = [e.object for e in watcher.poll(0.1) if e.type is EventType.MODIFIED]
    final = container_status(history[-1])["state"]["terminated"]
    if drained:  # the app is PID 1 and has a handler: SIGTERM at once, exit 0
        assert (out.exists(), final["exitCode"]) == (True, 0)
        assert gone_after < 1.5
    else:  # the shell is PID 1, has no handler: the kernel drops SIGTERM
        assert (out.exists(), final["exitCode"]) == (False, 137)
        assert 1.9 <= gone_after <= 5.0  # SIGKILL when the 2 s grace period ends


def test_delete_with_grace_zero_kills_at_once(
    kubelet: Kubelet, store: ObjectStore, tmp_path: Path
) -> None:
    out = tmp_path / "sigterm"
    store.create(PODS, make_pod("forced", recorder(out, "stay")), NS)
    pid = pid_of(wait_for(store, "forced", running))
    wait_until(Path(f"{out}.armed").exists)

    store.delete(PODS, NS, "forced", DeleteOptions(grace_period_seconds=0))

    wait_until(lambda: not psutil.pid_exists(pid), timeout_s=2)
    assert not out.exists()  # SIGKILL, no SIGTERM first
    with pytest.raises(Exception, match="not found"):
        store.get(PODS, NS, "forced")


def test_stop_terminates_every_pod_gracefully_and_leaves_no_child(
    store: ObjectStore, settings: SandboxSettings, state_dir: Path, tmp_path: Path
) -> None:
    polite, stubborn = tmp_path / "polite", tmp_path / "stubborn"
    kubelet = Kubelet(store, settings, state_dir, PodNetwork.random())
    kubelet.start()
    try:
        store.create(PODS, make_pod("polite", recorder(polite)), NS)
        pod = make_pod("stubborn", recorder(stubborn, "stay"), terminationGracePeriodSeconds=1)
        store.create(PODS, pod, NS)
        for name in ("polite", "stubborn"):
            wait_for(store, name, running)
        wait_until(lambda: all(Path(f"{p}.armed").exists() for p in (polite, stubborn)))
        assert psutil.Process().children(recursive=True)
    finally:
        started = time.monotonic()
        kubelet.stop()
        took_s = time.monotonic() - started

    assert psutil.Process().children(recursive=True) == []
    assert [t.name for t in threading.enumerate() if t.name.startswith("kubelet")] == []
    assert polite.exists() and stubborn.exists()  # both got SIGTERM first
    assert took_s < 4.5  # the stubborn one: SIGKILL 2 s after SIGTERM
    assert (
        container_status(store.get(PODS, NS, "stubborn"))["state"]["terminated"]["exitCode"] == 137
    )


# -- metrics -----------------------------------------------------------------------------


def test_cpu_samples_tell_a_busy_pod_from_an_idle_one(kubelet: Kubelet, store: ObjectStore) -> None:
    store.create(PODS, make_pod("busy", python("app", "-c", SPIN)), NS)
    store.create(PODS, make_pod("idle", sleeper()), NS)
    for name in ("busy", "idle"):
        wait_for(store, name, running)
    settled = time.time() + 0.5  # past interpreter start-up

    def sampled_after_start_up() -> bool:
        samples = [kubelet.pod_cpu(NS, name) for name in ("busy", "idle")]
        return all(s is not None and s.timestamp_s - s.window_s >= settled for s in samples)

    wait_until(sampled_after_start_up, timeout_s=5)

    busy, idle = kubelet.pod_cpu(NS, "busy"), kubelet.pod_cpu(NS, "idle")
    assert busy is not None and idle is not None
    assert busy.millicores > 300
    assert idle.millicores < 100
    assert 0.1 < busy.window_s < 1.0
    assert kubelet.pod_cpu(NS, "nowhere") is None
    memory = kubelet.pod_memory(NS, "idle")  # an interpreter's resident set: megabytes
    assert memory is not None and memory > 4 * 1024 * 1024
    assert kubelet.pod_memory(NS, "nowhere") is None


def test_container_cpu_counts_each_running_containers_seconds(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    busy, idle = (
        python("busy", "-c", SPIN),
        python("idle", "-c", SLEEP),
    )
    store.create(PODS, make_pod("pair", busy, idle), NS)
    wait_for(store, "pair", running)
    first = {t.container: t.seconds for t in kubelet.container_cpu()}

    wait_until(lambda: cpu_of(kubelet, "busy") > first["busy"] + 0.2, timeout_s=5)

    assert sorted(first) == ["busy", "idle"]
    assert {(t.namespace, t.pod) for t in kubelet.container_cpu()} == {(NS, "pair")}
    assert cpu_of(kubelet, "idle") - first["idle"] < 0.2


def cpu_of(kubelet: Kubelet, container: str) -> float:
    return next(t.seconds for t in kubelet.container_cpu() if t.container == container)


def test_pod_ip_is_released_when_the_pod_is_gone(kubelet: Kubelet, store: ObjectStore) -> None:
    store.create(PODS, make_pod("brief", sleeper()), NS)
    ip = wait_for(store, "brief", running)["status"]["podIP"]  # type: ignore[index]
    assert ip in kubelet.pod_network.allocated

    store.delete(PODS, NS, "brief", DeleteOptions(grace_period_seconds=0))

    wait_until(lambda: ip not in kubelet.pod_network.allocated, timeout_s=3)


def test_no_orphans_when_the_test_process_kills_a_pod_group_by_hand(
    kubelet: Kubelet, store: ObjectStore
) -> None:
    """A container that dies outside the kubelet's control is seen at once and restarted."""
    store.create(PODS, make_pod("victim", sleeper()), NS)
    pid = pid_of(wait_for(store, "victim", running))

    os.killpg(pid, signal.SIGKILL)

    restarted = wait_for(store, "victim", lambda p: container_status(p).get("restartCount") == 1)
    assert container_status(restarted)["lastState"]["terminated"]["exitCode"] == 137
    assert sys.platform.startswith("linux")


DAEMON = """
import sys, time
from pathlib import Path
from slagate.sandbox.kubelet import Kubelet, PodNetwork
from slagate.children import child_environment
from slagate.sandbox.objects.resources import PODS
from slagate.sandbox.settings import SandboxSettings
from slagate.sandbox.apiserver.store import ObjectStore
store = ObjectStore()
Kubelet(store, SandboxSettings(), Path(sys.argv[1]), PodNetwork.random()).start()
app = {"name": "app", "image": "python", "command": ["python", "-c", "import time; time.sleep(60)"]}
pod = {"metadata": {"name": "p"}, "spec": {"containers": [app]}}
store.create(PODS, pod, "default")
while True:
    statuses = store.get(PODS, "default", "p")["status"].get("containerStatuses") or [{}]
    if "containerID" in statuses[0]:
        Path(sys.argv[2]).write_text(statuses[0]["containerID"].removeprefix("sandbox://"))
        time.sleep(60)
    time.sleep(0.02)
"""


def test_pods_die_with_a_daemon_that_is_sigkilled(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    daemon = subprocess.Popen(
        [sys.executable, "-c", DAEMON, str(tmp_path / "state"), str(pid_file)],
        env=child_environment(),
    )
    try:
        wait_until(pid_file.exists)
        pod_pid = int(pid_file.read_text())
        assert psutil.Process(pod_pid).ppid() == daemon.pid
    finally:
        daemon.kill()
        daemon.wait(5)

    wait_until(
        lambda: not psutil.pid_exists(pod_pid) or psutil.Process(pod_pid).status() == "zombie"
    )
