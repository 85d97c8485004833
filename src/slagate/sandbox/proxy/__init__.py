"""The sandbox's service proxy: kube-proxy or an Istio sidecar, in one asyncio process.

Each Service port gets a listener on 127.0.0.1 (a free port, kept for the Service's
life). Under the ``per-request`` data plane every request on it goes to a ready endpoint
chosen for that request, over a pooled keep-alive connection; under ``kube-proxy`` each
client connection is tied to one endpoint's connection. Endpoint changes take effect only
after the propagation delay, as on a real cluster::

    running      ProxyOptions, run_proxy: the process (informers, loop, ports file)
    informing    Informer: list + watch with the official client, in a thread
    proxying     ServiceProxy: listeners per Service port, delayed endpoint updates
    topology     Topology: Services and EndpointSlices -> routable endpoints (pure)
    delaying     DelayLine: the propagation delay (pure)
    forwarding   Forwarder: one client connection, balanced per request or per connection
    upstreams    Backends (balancing), Upstream (keep-alive pool), Endpoint
    http1        request/response heads and body relaying (RFC 9112)
    sidecar      Sidecar: the ``istio`` data plane's route and outlier detector per port
    retrying     RetryPolicy: which failed attempts are sent again (pure)
    outliers     OutlierDetector: Envoy's outlier ejection arithmetic (pure)
    meshconfig   MeshConfig: Istio objects by the Services their hosts name (pure)
    destinationrules, virtualservices: reading those kinds (pure)
    portsfile    the Service -> port map the daemon publishes
    supervising  ProxySupervisor: the daemon's side (child process, restarts, publishing
                 each Service's address into its status and annotation)

Nothing here runs at import time; ``kubernetes`` is imported by ``informing`` and
``running`` only. ``supervising`` runs in the daemon (threads), everything else in the
proxy process (asyncio).
"""

from __future__ import annotations

from slagate.sandbox.proxy.portsfile import PublishedPort, read_ports_file, write_ports_file
from slagate.sandbox.proxy.proxying import ServiceProxy, endpoint_map
from slagate.sandbox.proxy.topology import ServiceKey, ServicePort
from slagate.sandbox.proxy.upstreams import Balancing, Endpoint

__all__ = [
    "Balancing",
    "Endpoint",
    "PublishedPort",
    "ServiceKey",
    "ServicePort",
    "ServiceProxy",
    "endpoint_map",
    "read_ports_file",
    "write_ports_file",
]
