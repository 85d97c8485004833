"""The sandbox kubelet: pods as real processes on loopback, probes, termination, CPU.

::

    kubelet      Kubelet: threads, pod watch, shutdown, pod_cpu/pod_memory (PodMetricsSource)
    pods         PodWorker: admission, address, deletion, status writes
    containers   ContainerWorker: process, probes, restarts with back-off, preStop/SIGTERM/SIGKILL
    reactor      the loop thread: posted callbacks, timers, process exits (pidfd)
    pool         worker threads for probe requests
    probing      httpGet / tcpSocket / exec actions with timeouts
    processes    spawning (own session, PR_SET_PDEATHSIG), signals, exec commands
    network      PodNetwork: pod IPs in a random 127.X.Y.0/24
    specs        the pod spec as frozen values;  images: the image table
    environment  env, fieldRef, $(VAR) expansion;  status: phase, conditions, readiness gates
    configsources ConfigMaps/Secrets for env and volumes;  volumes: configMap/secret files
    backoff      crash-loop back-off;  events: Event recorder;  sampling: process-tree CPU, RSS
    probe_states the probe worker's rules: thresholds, published results (pure)
    termination  when preStop ends, SIGTERM and SIGKILL come (pure)

Pure: ``probe_states`` and ``termination`` (held to it by an import-linter contract),
``specs``, ``images``, ``environment``, ``status``, ``backoff``.
"""

from slagate.sandbox.kubelet.kubelet import Kubelet
from slagate.sandbox.kubelet.network import PodNetwork

__all__ = ["Kubelet", "PodNetwork"]
