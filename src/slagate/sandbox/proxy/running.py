"""The proxy process: informers over HTTP, a ``ServiceProxy`` on asyncio, the ports file.

``python -m slagate.sandbox proxy --kubeconfig K [--namespace N] --delay S --ports-file F``
runs ``run_proxy`` until SIGTERM or SIGINT. uvloop is used when it is installed (it
roughly doubles the requests per CPU second); the standard loop otherwise.

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

from slagate.errors import SandboxError
from slagate.sandbox.proxy.informing import Changed, Delivery, Informer, ListCall, Listed
from slagate.sandbox.proxy.portsfile import PortMap, read_ports_file, write_ports_file
from slagate.sandbox.proxy.proxying import ServiceProxy
from slagate.sandbox.proxy.upstreams import Balancing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProxyOptions:
    """``namespace`` None watches every namespace. ``delay_s``: the endpoint propagation
    delay (``SandboxSettings.endpoint_propagation_delay_s``)."""

    kubeconfig: Path
    ports_file: Path
    delay_s: float = 1.0
    namespace: str | None = None
    balancing: Balancing = Balancing.LEAST_REQUEST


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
    proxy = ServiceProxy(
        options.delay_s,
        balancing=options.balancing,
        on_ports=lambda ports: _write_ports(options.ports_file, ports),
        preferred_ports=read_ports_file(options.ports_file),
    )
    write_ports_file(options.ports_file, {})
    informers = _informers(options, proxy, loop)
    for informer in informers:
        informer.start()
    logger.info("service proxy ready (delay %.3g s, %s)", options.delay_s, options.balancing.value)
    try:
        await stop.wait()
    finally:
        for informer in informers:
            informer.stop()
        await proxy.close()
        with contextlib.suppress(OSError):
            write_ports_file(options.ports_file, {})


def _write_ports(path: Path, ports: PortMap) -> None:
    try:
        write_ports_file(path, ports)
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
    calls: tuple[ListCall, ListCall]
    if options.namespace is None:
        calls = (
            core.list_service_for_all_namespaces,
            discovery.list_endpoint_slice_for_all_namespaces,
        )
        scope: dict[str, Any] = {}
    else:
        calls = (core.list_namespaced_service, discovery.list_namespaced_endpoint_slice)
        scope = {"namespace": options.namespace}

    def post(callback: Delivery, item: Listed | Changed) -> None:
        if not loop.is_closed():  # an informer may outlive the loop by a moment at exit
            loop.call_soon_threadsafe(callback, item)

    return [
        Informer("services", calls[0], post, _services_to(proxy), **scope),
        Informer("endpointslices", calls[1], post, _slices_to(proxy), **scope),
    ]


def _services_to(proxy: ServiceProxy) -> Delivery:
    def deliver(item: Listed | Changed) -> None:
        if isinstance(item, Listed):
            proxy.service_listed(item.items)
        else:
            proxy.service_changed(item.event_type, item.obj)

    return deliver


def _slices_to(proxy: ServiceProxy) -> Delivery:
    def deliver(item: Listed | Changed) -> None:
        if isinstance(item, Listed):
            proxy.slices_listed(item.items)
        else:
            proxy.slice_changed(item.event_type, item.obj)

    return deliver
