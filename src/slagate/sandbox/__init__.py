"""The embedded sandbox cluster: a Kubernetes control plane on loopback, pods as processes.

Each subpackage is one upstream component, and the pure decisions are kept apart from the
loops that run them (nothing here runs at import time)::

    apiserver/          kube-apiserver: REST API, watch streams, the object store
    objects/            the object vocabulary all parts share: bodies, resources, selectors
    decisions/          what the Deployment, ReplicaSet and HPA controllers decide (pure)
    controllermanager/  kube-controller-manager: informer-driven loops over those decisions
    kubelet/            pods as OS processes: probes, termination (its pure rules inside), CPU
    proxy/              the service proxy process (kube-proxy / Istio-like data plane)
    metrics             PodCpu: the kubelet's CPU samples, as the HPA reads them
    settings            SandboxSettings: timings named after the real components' flags
    applying            manifests (files, documents) into the store, sandbox-settings.yaml
    assembling          Sandbox: start in order, stop in reverse
    daemon, cli         the background process and ``slagate sandbox up|status|down``
    inspecting          the running sandbox seen through its API server (status tables)

See docs/sandbox.md for the Kubernetes behaviour each part reproduces.
"""
