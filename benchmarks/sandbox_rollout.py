"""How long a rolling restart of 3 order replicas takes on the embedded sandbox.

Starts a ``Sandbox`` with the overlay (``deploy/shop/sandbox``), raises the order HPA's
``minReplicas`` to the wanted count with ``kubectl patch`` (the HPA stays in place, as it
would in production, but cannot scale an idle Deployment back to 1; ``--delete-hpa``
deletes it instead), scales ``deployment/order`` to that count and waits until all are
available. Then, ``--repeats`` times:

- ``rollout status``: from just before ``kubectl rollout restart deployment/order`` until
  ``kubectl rollout status deployment/order --timeout=120s`` returns (both kubectl
  processes' start-up included, as a user would see it);
- ``old pods gone``: from the same start until no pod that existed before the restart is
  left (listed every ``POLL_S`` with the official client; graceful termination, i.e. the
  2 s preStop and the shop's drain, ends after the rollout is already complete).

    .venv/bin/python benchmarks/sandbox_rollout.py [--repeats 3] [--replicas 3] [--delete-hpa]

Target: median rollout status < 30 s. Exits 1 on FAIL (or if a rollout did not finish).
Needs kubectl (``/usr/bin/kubectl``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from kubernetes import client

from slagate.kube.connecting import KubeOptions, connect
from slagate.kube.streaming import StopSignal
from slagate.kube.waiting import RolloutWaiter
from slagate.sandbox import Sandbox

KUBECTL = Path("/usr/bin/kubectl")
OVERLAY = Path(__file__).resolve().parents[1] / "deploy" / "shop" / "sandbox"
TARGET_S = 30.0
NAMESPACE = "default"
SELECTOR = "app=order"
POLL_S = 0.1
READY_TIMEOUT_S = 90.0
GONE_TIMEOUT_S = 60.0


class Rollout(NamedTuple):
    status_s: float  # restart .. `kubectl rollout status` returned
    gone_s: float  # restart .. no pod from before the restart left


def kubectl(kubeconfig: Path, *args: str, timeout_s: float = 60.0) -> str:
    """Run kubectl against the sandbox; its stdout, or ``RuntimeError`` with its stderr."""
    argv = [str(KUBECTL), "--kubeconfig", str(kubeconfig), "--namespace", NAMESPACE, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(
            f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[:500]}"
        )
    return done.stdout


def pod_names(core: client.CoreV1Api) -> set[str]:
    return {
        p.metadata.name for p in core.list_namespaced_pod(NAMESPACE, label_selector=SELECTOR).items
    }


def wait_available(apps: client.AppsV1Api, replicas: int) -> None:
    """Until deployment/order has ``replicas`` wanted, updated and available, nothing more."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        d = apps.read_namespaced_deployment("order", NAMESPACE)
        s = d.status
        counts = (d.spec.replicas, s.replicas, s.updated_replicas, s.available_replicas)
        if all(c == replicas for c in counts):
            return
        time.sleep(POLL_S)
    raise RuntimeError(f"deployment/order not at {replicas} available within {READY_TIMEOUT_S} s")


def prepare(kubeconfig: Path, apps: client.AppsV1Api, replicas: int, delete_hpa: bool) -> None:
    if delete_hpa:
        kubectl(kubeconfig, "delete", "hpa", "order")
        print("deleted the order HPA")
    else:
        patch = json.dumps({"spec": {"minReplicas": replicas}})
        kubectl(kubeconfig, "patch", "hpa", "order", "--type", "merge", "-p", patch)
        print(f"patched the order HPA: minReplicas {replicas}")
    kubectl(kubeconfig, "scale", "deployment/order", f"--replicas={replicas}")
    started = time.monotonic()
    wait_available(apps, replicas)
    print(f"deployment/order: {replicas} available after {time.monotonic() - started:.1f} s")


def restart(kubeconfig: Path, core: client.CoreV1Api) -> Rollout:
    old = pod_names(core)
    started = time.monotonic()
    kubectl(kubeconfig, "rollout", "restart", "deployment/order")
    kubectl(kubeconfig, "rollout", "status", "deployment/order", "--timeout=120s", timeout_s=150)
    status_s = time.monotonic() - started
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while old & pod_names(core):
        if time.monotonic() > deadline:
            raise RuntimeError(f"old pods still there {GONE_TIMEOUT_S} s after the rollout")
        time.sleep(POLL_S)
    return Rollout(status_s, time.monotonic() - started)


def measure(args: argparse.Namespace) -> list[Rollout]:
    with (
        tempfile.TemporaryDirectory(prefix="slagate-rollout-") as tmp,
        Sandbox.start(Path(tmp) / "sandbox", [OVERLAY]) as sandbox,
    ):
        connection = connect(KubeOptions(kubeconfig=sandbox.kubeconfig))
        RolloutWaiter(connection.api_client, connection.namespace, StopSignal()).wait_all_complete(
            time.monotonic() + READY_TIMEOUT_S
        )
        try:
            core = client.CoreV1Api(connection.api_client)
            apps = client.AppsV1Api(connection.api_client)
            prepare(sandbox.kubeconfig, apps, args.replicas, args.delete_hpa)
            rollouts = []
            for i in range(1, args.repeats + 1):
                rollouts.append(restart(sandbox.kubeconfig, core))
                wait_available(apps, args.replicas)  # settled, and the HPA did not step in
                print(
                    f"rollout {i}: rollout status {rollouts[-1].status_s:.2f} s, "
                    f"old pods gone {rollouts[-1].gone_s:.2f} s",
                    flush=True,
                )
            return rollouts
        finally:
            connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument(
        "--delete-hpa", action="store_true", help="delete the order HPA instead of patching it"
    )
    args = parser.parse_args()
    if not KUBECTL.exists():
        print(f"{KUBECTL} not found", file=sys.stderr)
        return 2
    try:
        rollouts = measure(args)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"rollout did not complete: {e}: FAIL")
        return 1
    status = statistics.median(r.status_s for r in rollouts)
    gone = statistics.median(r.gone_s for r in rollouts)
    verdict = "PASS" if status < TARGET_S else "FAIL"
    print(
        f"median of {len(rollouts)} restarts of {args.replicas} replicas: "
        f"rollout status {status:.2f} s (target < {TARGET_S:g} s): {verdict}; "
        f"old pods gone {gone:.2f} s"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
