"""How long from a change in the API server's store to its row: ``python -m tests.kube.latency``.

Starts a sandbox API server, a ClusterRecorder over loopback, then toggles one pod's
readiness ``--changes`` times (a few ms apart) and compares each write's wall time with
the ``t_ms`` (receipt time) of the row it produced. Prints median, p95 and max in ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from slagate.kube.connecting import KubeOptions, connect
from slagate.kube.watching import ClusterRecorder
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.kubeconfig import write_kubeconfig
from slagate.sandbox.store import ObjectStore
from slagate.timeline import read_table
from tests.kube.objects import NS, PODS, Cluster, pod


def measure(changes: int, gap_s: float) -> list[float]:
    store = ObjectStore(namespaces=("default", NS))
    cluster = Cluster(store)
    with tempfile.TemporaryDirectory() as tmp, ApiServer(store) as server:
        connection = connect(KubeOptions(kubeconfig=write_kubeconfig(Path(tmp) / "kc", server.url)))
        cluster.create(PODS, pod("p"))
        recorder = ClusterRecorder(connection.api_client, NS, Path(tmp)).start()
        while server.open_watches < 6:
            time.sleep(0.01)
        written_ms = []
        for i in range(changes):
            written_ms.append(int(time.time() * 1000))
            cluster.pod_status("p", "Running", ready=i % 2 == 0)
            time.sleep(gap_s)
        recorder.stop()
        connection.close()
        rows = read_table(Path(tmp), "pods")
    received = rows[rows["transition"].isin(["ready", "unready"])]["t_ms"].tolist()
    return [float(r - w) for r, w in zip(received, written_ms, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=5.0)
    args = parser.parse_args()
    latencies = sorted(measure(args.changes, args.gap_ms / 1000))
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"{len(latencies)} changes: median {statistics.median(latencies):.1f} ms, "
        f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms (store write -> row t_ms)"
    )


if __name__ == "__main__":
    main()
