"""The proxy process: informers over HTTP, a ``ServiceProxy`` on asyncio, the ports file.

``python -m slagate.sandbox proxy --kubeconfig K [--namespace N] --delay S --jitter J
--data-plane NAME --ports-file F``
runs ``run_proxy`` until SIGTERM or SIGINT. uvloop is used when it is installed (it
roughly doubles the requests per CPU second); the standard loop otherwise. Its request
metrics (Istio's names, ``telemetry``) are served on a loopback port of their own,
written into the ports file as ``metricsPort`` (the previous port again after a restart
when it is free).

Like kube-proxy it is a process of its own: its throughput does not share a GIL with the
sandbox's controllers, and it reads the cluster only through the API server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from slagate.errors import SandboxError
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.proxy.exporting import serve_metrics
from slagate.sandbox.proxy.informing import Changed, Delivery, Informer, ListCall, Listed
from slagate.sandbox.proxy.portsfile import (
    PortMap,
    read_metrics_port,
    read_ports_file,
    write_ports_file,
)
from slagate.sandbox.proxy.proxying import ServiceProxy
from slagate.sandbox.proxy.telemetry import IstioCollector, RequestTelemetry
from slagate.sandbox.proxy.upstreams import Balancing
from slagate.sandbox.settings import DataPlane
from slagate.sandbox.targetgroups import TargetGroupTiming

logger = logging.getLogger(__name__)

METRICS_HOST = "127.0.0.1"
ISTIO_GROUP = "networking.istio.io"
ISTIO_VERSION = "v1"
"""The version the proxy reads DestinationRules and VirtualServices at: the sandbox
serves every version of a CRD from one storage, so objects written at ``v1beta1`` or
``v1alpha3`` read here too."""


@dataclass(frozen=True)
class ProxyOptions:
    """``namespace`` None watches every namespace. ``delay_s``, ``jitter_s`` and
    ``data_plane``: ``SandboxSettings``' ``endpoint_propagation_delay_s``,
    ``endpoint_propagation_jitter_s`` and ``data_plane``; ``balancing`` applies to the
    ``per-request`` data plane."""

    kubeconfig: Path
    ports_file: Path
    delay_s: float = 1.0
    namespace: str | None = None
    balancing: Balancing = Balancing.LEAST_REQUEST
    data_plane: DataPlane = DataPlane.PER_REQUEST
    jitter_s: float = 0.0
    target_group: TargetGroupTiming | None = None
    """The target group's timings under ``aws-alb``/``aws-nlb`` (``SandboxSettings``)."""


def run_proxy(options: ProxyOptions) -> None:
    """Serve until SIGTERM/SIGINT; ``SandboxError`` if the kubeconfig is unusable."""
    runner = _runner()
    runner(_serve(options))


def _runner() -> Callable[[Any], None]:
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return asyncio.run
    return uvloop.run  # type: ignore[no-any-return, unused-ignore]


async def _serve(options: ProxyOptions) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    telemetry = RequestTelemetry()
    metrics = await _serve_metrics(telemetry, read_metrics_port(options.ports_file))
    metrics_port = int(metrics.sockets[0].getsockname()[1])
    proxy = ServiceProxy(
        options.delay_s,
        data_plane=options.data_plane,
        jitter_s=options.jitter_s,
        target_group=options.target_group,
        balancing=options.balancing,
        on_ports=lambda ports: _write_ports(options.ports_file, ports, metrics_port),
        preferred_ports=read_ports_file(options.ports_file),
        telemetry=telemetry,
    )
    write_ports_file(options.ports_file, {}, metrics_port=metrics_port)
    informers = _informers(options, proxy, loop)
    for informer in informers:
        informer.start()
    logger.info(
        "service proxy ready (%s, delay %.3g s, jitter %.3g s, %s, metrics on %s:%d)",
        options.data_plane.value, options.delay_s, options.jitter_s, proxy.balancing.value,
        METRICS_HOST, metrics_port,
    )  # fmt: skip
    try:
        await stop.wait()
    finally:
        for informer in informers:
            informer.stop()
        metrics.close()
        await proxy.close()
        with contextlib.suppress(OSError):
            write_ports_file(options.ports_file, {})


async def _serve_metrics(telemetry: RequestTelemetry, preferred: int | None) -> asyncio.Server:
    """``/metrics`` on the previous run's port if it is free, else on a free one."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IstioCollector(telemetry))
    if preferred:
        with contextlib.suppress(OSError):
            return await serve_metrics(registry, METRICS_HOST, preferred)
    return await serve_metrics(registry, METRICS_HOST, 0)


def _write_ports(path: Path, ports: PortMap, metrics_port: int) -> None:
    try:
        write_ports_file(path, ports, metrics_port=metrics_port)
    except OSError as error:
        logger.error("cannot write the ports file %s: %s", path, error)


def _informers(
    options: ProxyOptions, proxy: ServiceProxy, loop: asyncio.AbstractEventLoop
) -> list[Informer]:
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    try:
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(options.kubeconfig), persist_config=False
        )
    except (ConfigException, OSError) as error:
        raise SandboxError(
            f"proxy: cannot load kubeconfig {options.kubeconfig}: {error}"
        ) from error
    core, discovery = client.CoreV1Api(api), client.DiscoveryV1Api(api)
    calls: tuple[ListCall, ListCall, ListCall]
    if options.namespace is None:
        calls = (
            core.list_service_for_all_namespaces,
            discovery.list_endpoint_slice_for_all_namespaces,
            core.list_pod_for_all_namespaces,
        )
        scope: dict[str, Any] = {}
    else:
        calls = (
            core.list_namespaced_service,
            discovery.list_namespaced_endpoint_slice,
            core.list_namespaced_pod,
        )
        scope = {"namespace": options.namespace}

    def post(callback: Delivery, item: Listed | Changed) -> None:
        if not loop.is_closed():  # an informer may outlive the loop by a moment at exit
            loop.call_soon_threadsafe(callback, item)

    services = _delivery(proxy.service_listed, proxy.service_changed)
    slices = _delivery(proxy.slices_listed, proxy.slice_changed)
    pods = _delivery(proxy.pods_listed, proxy.pod_changed)
    informers = [
        Informer("services", calls[0], post, services, **scope),
        Informer("endpointslices", calls[1], post, slices, **scope),
        Informer("pods", calls[2], post, pods, **scope),
    ]
    if options.data_plane.mesh:
        custom = client.CustomObjectsApi(api)
        call = (
            custom.list_cluster_custom_object if not scope else custom.list_namespaced_custom_object
        )
        for plural, delivery in (
            ("destinationrules", _delivery(proxy.rules_listed, proxy.rule_changed)),
            ("virtualservices", _delivery(proxy.routes_listed, proxy.route_changed)),
        ):
            kind: dict[str, Any] = {"group": ISTIO_GROUP, "version": ISTIO_VERSION}
            informers.append(Informer(plural, call, post, delivery, **kind, plural=plural, **scope))
    return informers


def _delivery(
    listed: Callable[[list[RawObject]], None], changed: Callable[[str, RawObject], None]
) -> Delivery:
    """A list to ``listed``, a watch event to ``changed``."""

    def deliver(item: Listed | Changed) -> None:
        if isinstance(item, Listed):
            listed(item.items)
        else:
            changed(item.event_type, item.obj)

    return deliver
