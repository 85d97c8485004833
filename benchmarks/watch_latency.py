"""How late a readiness change reaches the timeline: the kube watchers' latency.

Two figures, each the time from a write in the sandbox's store to the ``t_ms`` (receipt
time) of the ``pods`` row ``slagate.kube.watching.ClusterRecorder`` makes of it, with the
recorder in the same process as the sandbox, as in ``slagate run --sandbox``:

1. ``store``: the watch path alone. A bare sandbox API server holding one pod whose Ready
   condition the script toggles ``--changes`` times, ``--gap-ms`` apart; each write's wall
   time is compared with its ``ready``/``unready`` row.
2. ``sandbox``: end to end on a real ``Sandbox`` with the overlay. The order HPA is deleted
   (it would scale an idle Deployment back to 1), then deployment/order is scaled to
   ``--replicas`` and back to 1, ``--cycles`` times: the kubelet's probes make new pods
   ready; removed pods turn unready when their container exits after the preStop. The
   kubelet stamps the Ready condition's ``lastTransitionTime`` in RFC 3339 with whole
   seconds (like upstream), too coarse for a 100 ms target, so the store's commit function
   is wrapped to take the wall time of every commit that flips a pod's Ready condition
   (under the store's lock, before any watcher can see it). The n-th flip of a pod is
   matched with its n-th ``ready``/``unready`` row.

Rows carry whole milliseconds (``int(time * 1000)``) and so do the write stamps: a
latency of 0 means both fell in the same millisecond.

    .venv/bin/python benchmarks/watch_latency.py [--only store|sandbox] [--changes 200]
        [--gap-ms 5] [--cycles 3] [--replicas 5]

Target: p95 < 100 ms for each figure. Exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from kubernetes import client

from slagate.kube.connecting import KubeConnection, KubeOptions, connect
from slagate.kube.streaming import StopSignal
from slagate.kube.waiting import RolloutWaiter
from slagate.kube.watching import WATCHED_KINDS, ClusterRecorder
from slagate.sandbox import Sandbox
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.objects.resources import PODS
from slagate.timeline import read_table

OVERLAY = Path(__file__).resolve().parents[1] / "deploy" / "shop" / "sandbox"
TARGET_P95_MS = 100.0
NAMESPACE = "default"
POLL_S = 0.1
READY_TIMEOUT_S = 90.0
READINESS = ("ready", "unready")


class Flip(NamedTuple):
    """A committed change of a pod's Ready condition."""

    pod: str
    ready: bool
    t_ms: int  # wall time of the commit, whole ms like the rows
    last_transition: str  # the condition's lastTransitionTime as stored


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def described(label: str, latencies_ms: Sequence[float]) -> str:
    return (
        f"{label}: {len(latencies_ms)} changes: median {statistics.median(latencies_ms):.1f} ms, "
        f"p95 {p95(latencies_ms):.1f} ms, max {max(latencies_ms):.1f} ms"
    )


def judged(label: str, latencies_ms: Sequence[float]) -> bool:
    ok = p95(latencies_ms) < TARGET_P95_MS
    verdict = "PASS" if ok else "FAIL"
    print(f"{described(label, latencies_ms)} (target p95 < {TARGET_P95_MS:g} ms): {verdict}")
    return ok


# --- 1. the watch path: a bare API server, the script writing pod status -------------------


def measure_store(changes: int, gap_s: float) -> list[int]:
    store = ObjectStore(namespaces=(NAMESPACE,))
    with tempfile.TemporaryDirectory(prefix="slagate-watch-") as tmp, ApiServer(store) as server:
        kubeconfig = server.write_kubeconfig(Path(tmp) / "kc")
        connection = connect(KubeOptions(kubeconfig=kubeconfig))
        store.create(PODS, _pod("p"), NAMESPACE)
        recorder = ClusterRecorder(connection.api_client, NAMESPACE, Path(tmp)).start()
        _wait_watching(lambda: server.open_watches, 0)
        written_ms = []
        for i in range(changes):
            written_ms.append(int(time.time() * 1000))
            store.modify(PODS, NAMESPACE, "p", _readiness(i % 2 == 0), subresource="status")
            time.sleep(gap_s)
        recorder.stop()
        connection.close()
        rows = read_table(Path(tmp), "pods")
    received = rows[rows["transition"].isin(READINESS)]["t_ms"].tolist()
    return [r - w for r, w in zip(received, written_ms, strict=True)]


def _pod(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": "latency"}},
        "spec": {"containers": [{"name": "app", "image": "shop:1"}]},
    }


def _readiness(ready: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(obj: dict[str, Any]) -> dict[str, Any]:
        condition = {"type": "Ready", "status": "True" if ready else "False"}
        obj["status"] = {**obj.get("status", {}), "phase": "Running", "conditions": [condition]}
        return obj

    return change


def _wait_watching(open_watches: Callable[[], int], before: int, timeout_s: float = 10) -> None:
    """Until the recorder's watches (one per kind) are open on the server."""
    deadline = time.monotonic() + timeout_s
    while open_watches() < before + len(WATCHED_KINDS):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the recorder's watches did not open within {timeout_s} s")
        time.sleep(0.01)


# --- 2. end to end: a real sandbox, the kubelet's probes flipping readiness ----------------


class FlipStamps:
    """While entered, wraps ``store._commit`` (the one place every write goes through; the
    store has no public write hook) to stamp each commit that flips a pod's Ready condition.
    """

    def __init__(self, store: ObjectStore) -> None:
        self.flips: list[Flip] = []
        self._store = store
        self._commit = store._commit
        self._lock = threading.Lock()

    def __enter__(self) -> FlipStamps:
        self._store._commit = self._stamped  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc_info: object) -> None:
        del self._store._commit  # the class's method again

    def _stamped(self, resource: Any, kind: EventType, obj: Any, previous: Any) -> Any:
        now_ms = int(time.time() * 1000)
        if resource is PODS and kind is EventType.MODIFIED and previous is not None:
            before, after = _ready_condition(previous), _ready_condition(obj)
            if _is_true(after) != _is_true(before):
                flip = Flip(obj["metadata"]["name"], _is_true(after), now_ms, _since(after))
                with self._lock:
                    self.flips.append(flip)
        return self._commit(resource, kind, obj, previous)


def _ready_condition(pod: Any) -> dict[str, Any] | None:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), None)


def _is_true(condition: dict[str, Any] | None) -> bool:
    return condition is not None and condition.get("status") == "True"


def _since(condition: dict[str, Any] | None) -> str:
    return str((condition or {}).get("lastTransitionTime", ""))


def measure_sandbox(cycles: int, replicas: int) -> tuple[list[Flip], list[int]]:
    """Every Ready flip the sandbox committed and, in the same order, its row's latency."""
    with (
        tempfile.TemporaryDirectory(prefix="slagate-watch-") as tmp,
        Sandbox.start(Path(tmp) / "sandbox", [OVERLAY]) as sandbox,
    ):
        connection = connect(KubeOptions(kubeconfig=sandbox.kubeconfig))
        RolloutWaiter(connection.api_client, connection.namespace, StopSignal()).wait_all_complete(
            time.monotonic() + READY_TIMEOUT_S
        )
        try:
            autoscaling = client.AutoscalingV2Api(connection.api_client)
            autoscaling.delete_namespaced_horizontal_pod_autoscaler("order", NAMESPACE)
            run_dir = Path(tmp) / "run"
            flips = _record_cycles(sandbox, connection, run_dir, cycles, replicas)
        finally:
            connection.close()
        rows = read_table(run_dir, "pods")
    return flips, _matched(flips, rows)


def _record_cycles(
    sandbox: Sandbox, connection: KubeConnection, run_dir: Path, cycles: int, replicas: int
) -> list[Flip]:
    """Record while scaling order up and down; the Ready flips committed meanwhile, in
    commit order (each one's row is in by the time the last pod is gone)."""
    apps = client.AppsV1Api(connection.api_client)
    core = client.CoreV1Api(connection.api_client)
    watches = sandbox.server.open_watches
    recorder = ClusterRecorder(connection.api_client, NAMESPACE, run_dir).start()
    try:
        _wait_watching(lambda: sandbox.server.open_watches, watches)
        with FlipStamps(sandbox.store) as stamps:
            for i in range(1, cycles + 1):
                started = time.monotonic()
                _scale(apps, replicas)
                _wait_for(lambda: _available(apps) == replicas, f"{replicas} available")
                _scale(apps, 1)
                _wait_for(lambda: _pod_count(core) == 1, "1 pod left")
                print(f"cycle {i}: 1 -> {replicas} -> 1 in {time.monotonic() - started:.1f} s")
    finally:
        recorder.stop()
    return sorted(stamps.flips, key=lambda f: f.t_ms)


def _scale(apps: client.AppsV1Api, replicas: int) -> None:
    body = {"spec": {"replicas": replicas}}
    apps.patch_namespaced_deployment_scale("order", NAMESPACE, body)


def _available(apps: client.AppsV1Api) -> int:
    status = apps.read_namespaced_deployment("order", NAMESPACE).status
    return int(status.available_replicas or 0)


def _pod_count(core: client.CoreV1Api) -> int:
    return len(core.list_namespaced_pod(NAMESPACE, label_selector="app=order").items)


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"deployment/order: not {what} within {READY_TIMEOUT_S} s")
        time.sleep(POLL_S)


def _matched(flips: Sequence[Flip], rows: Any) -> list[int]:
    """Row t_ms minus commit time of each flip (in order): a pod's n-th flip, its n-th row."""
    received: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in rows[rows["transition"].isin(READINESS)].sort_values("t_ms").itertuples():
        received[row.name].append((int(row.t_ms), row.transition))
    seen: dict[str, int] = defaultdict(int)
    latencies = []
    for flip in flips:
        n, seen[flip.pod] = seen[flip.pod], seen[flip.pod] + 1
        if n >= len(received[flip.pod]):
            raise RuntimeError(f"pod {flip.pod}: flip {n + 1} to ready={flip.ready} has no row")
        t_ms, transition = received[flip.pod][n]
        if transition != ("ready" if flip.ready else "unready"):
            raise RuntimeError(
                f"pod {flip.pod}: flip {n + 1} is ready={flip.ready}, row {transition}"
            )
        latencies.append(t_ms - flip.t_ms)
    extra = {pod for pod, got in received.items() if len(got) != seen[pod]}
    if extra:
        raise RuntimeError(f"readiness rows without a committed flip for pods {sorted(extra)}")
    return latencies


def _precision_note(flips: Sequence[Flip]) -> str:
    """How the stored lastTransitionTime compares with the commit stamps."""
    same = sum(
        f.last_transition == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(f.t_ms / 1000))
        for f in flips
    )
    example = flips[0].last_transition if flips else "-"
    return (
        f"lastTransitionTime has whole seconds (e.g. {example}); it names the commit's second "
        f"for {same} of {len(flips)} flips, so commit stamps are used"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("store", "sandbox"), help="measure one figure")
    parser.add_argument("--changes", type=int, default=200, help="store: readiness toggles")
    parser.add_argument("--gap-ms", type=float, default=5.0, help="store: ms between toggles")
    parser.add_argument("--cycles", type=int, default=3, help="sandbox: scale-up-down cycles")
    parser.add_argument("--replicas", type=int, default=5, help="sandbox: replicas per cycle")
    args = parser.parse_args()
    ok = True
    if args.only in (None, "store"):
        ok = judged("store write -> row", measure_store(args.changes, args.gap_ms / 1000)) and ok
    if args.only in (None, "sandbox"):
        flips, latencies = measure_sandbox(args.cycles, args.replicas)
        print(_precision_note(flips))
        for direction in READINESS:
            part = [
                ms
                for ms, f in zip(latencies, flips, strict=True)
                if f.ready == (direction == "ready")
            ]
            if part:
                print(f"  {described(f'{direction} only', part)}")
        ok = judged("sandbox readiness change -> row", latencies) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
