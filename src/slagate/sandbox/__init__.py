"""The embedded sandbox cluster: a Kubernetes control plane on loopback, pods as processes.

Each subpackage is one upstream component, and the pure decisions are kept apart from the
loops that run them (nothing here runs at import time)::

    apiserver/          kube-apiserver: REST API, watch streams, the object store
    objects/            the object vocabulary all parts share: bodies, resources, selectors
    decisions/          what the Deployment, ReplicaSet and HPA controllers decide (pure)
    controllermanager/  kube-controller-manager: informer-driven loops over those decisions
    kubelet/            pods as OS processes: probes, termination (its pure rules inside), CPU
    proxy/              the service proxy process (kube-proxy / Istio-like data plane)
    monitoring/         Prometheus and what it scrapes: http_sd, kube-state-metrics, cAdvisor
    metrics             PodCpu, ContainerCpuTime, pod memory: the kubelet's, for HPA, cAdvisor
    settings            SandboxSettings: timings named after the real components' flags
    applying            manifests (files, documents) into the store, sandbox-settings.yaml
    assembling          Sandbox: start in order, stop in reverse
    daemon, cli         the background process and ``slagate sandbox up|status|down``
    inspecting          the running sandbox seen through its API server (status tables)
    manifests/          the default manifests (package data; deploy/shop/sandbox links here)

Code outside the sandbox imports only the names below (an import-linter contract keeps it
so): start and stop a ``Sandbox`` (its kubeconfig, state directory, settings, Service URLs,
``prometheus_url`` and ``profile``: timings and data plane), ``SandboxSettings``,
``DataPlane`` (the service proxy's profiles), ``DEFAULT_MANIFESTS`` (the packaged shop
overlay, a directory), ``load_settings`` (what a sandbox would run with: the settings file
under a scenario's and a sweep's layers, checked), ``check_manifests`` (the same, and the
manifests as that sandbox would apply them), the ``slagate sandbox`` commands and
their ``--timing`` and ``--data-plane`` options (``slagate run`` offers the same). A ``Sandbox`` is
what ``slagate.run`` calls a ``ProvidedCluster`` (kubeconfig, state directory, routing
delay, Prometheus URL, profile, stop); the CLI hands it over. See docs/sandbox.md for the Kubernetes
behaviour each part reproduces.
"""

from slagate.sandbox.applying import DEFAULT_MANIFESTS, check_manifests, load_settings
from slagate.sandbox.assembling import Sandbox
from slagate.sandbox.cli import data_plane_option, timing_option
from slagate.sandbox.cli import sandbox as sandbox_cli
from slagate.sandbox.proxy.topology import ServiceKey
from slagate.sandbox.settings import DataPlane, SandboxSettings

__all__ = [
    "DEFAULT_MANIFESTS",
    "DataPlane",
    "Sandbox",
    "SandboxSettings",
    "ServiceKey",
    "check_manifests",
    "data_plane_option",
    "load_settings",
    "sandbox_cli",
    "timing_option",
]
