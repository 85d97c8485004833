"""``Sandbox``: the whole local cluster assembled from its parts, started and stopped in order.

    with Sandbox.start(state_dir) as sandbox:   # the packaged shop manifests
        sandbox.service_url("order")         # http://127.0.0.1:40123 (through the proxy)
        sandbox.kubeconfig                   # STATE_DIR/kubeconfig, for kubectl and clients
        sandbox.prometheus_url               # http://127.0.0.1:40200, None without Prometheus

Start order, each step undone if a later one fails:

1. read ``sandbox-settings.yaml`` (unless ``settings`` is given) and parse every manifest;
2. an ``ObjectStore`` with the manifests applied: an invalid manifest stops here, naming
   the file, the document and the field, before any process runs;
3. the API server on a free loopback port with a fresh random bearer token, and
   ``STATE_DIR/kubeconfig`` (mode 0600), the only place the token is written: kubectl,
   the official client and the proxy process read it there. A ``FileGuard`` child
   removes it when this process ends, even by SIGKILL;
4. the service proxy process; each Service's proxy URL is published on the Service
   (status.loadBalancer.ingress and the ``sandbox.slagate.io/url`` annotation) before
   any pod exists, so pods see their Services' addresses from the start;
5. the kubelet (pods as processes) and the controller manager;
6. the monitoring endpoints (http_sd of the pods, kube-state-metrics, cAdvisor) and a
   real Prometheus scraping them, the pods and the proxy every ``scrape_interval_s``.
   Without a ``prometheus`` binary the sandbox starts without it, says once how to
   install it, and ``prometheus_url`` is None.

``stop()`` goes backwards: Prometheus and the monitoring endpoints, the controllers (no
new pods), then the kubelet stops every pod gracefully (preStop, SIGTERM, grace period),
then the proxy and the API server, and removes the kubeconfig: its token opened nothing
any more, and ``slagate run --sandbox`` keeps the state directory in a run folder, which
is shared and uploaded.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from slagate.children import FileGuard
from slagate.errors import ConfigError, SandboxError
from slagate.extras import SANDBOX
from slagate.sandbox.apiserver import ApiServer, ApiServerSettings
from slagate.sandbox.apiserver.kubeconfig import CONTEXT
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.applying import (
    DEFAULT_MANIFESTS,
    apply_manifests,
    load_for,
    load_settings,
)
from slagate.sandbox.controllermanager import ControllerManager
from slagate.sandbox.kubelet import Kubelet, PodNetwork
from slagate.sandbox.monitoring import (
    MonitoringServer,
    PrometheusServer,
    ScrapeSources,
    render_config,
    start_prometheus,
)
from slagate.sandbox.objects.resources import SERVICES
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.proxy.supervising import ProxySupervisor
from slagate.sandbox.proxy.topology import ServiceKey, service_key, service_ports
from slagate.sandbox.settings import DataPlane, SandboxSettings
from slagate.scenario import SettingsLayer
from slagate.timeline import SandboxProfile

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 30.0
"""How long the proxy may take to serve the manifests' Services at start."""


class Sandbox:
    """A running sandbox; build it with ``Sandbox.start``."""

    def __init__(
        self,
        state_dir: Path,
        settings: SandboxSettings,
        store: ObjectStore,
        server: ApiServer,
        proxy: ProxySupervisor,
        kubelet: Kubelet,
        controllers: ControllerManager,
        pod_network: PodNetwork,
        monitoring: MonitoringServer,
        prometheus: PrometheusServer | None,
        kubeconfig_guard: FileGuard,
    ) -> None:
        self.state_dir = state_dir
        self.settings = settings
        self.store = store
        self.server = server
        self.proxy = proxy
        self.kubelet = kubelet
        self.controllers = controllers
        self.pod_network = pod_network
        self.monitoring = monitoring
        self.prometheus = prometheus
        self._kubeconfig_guard = kubeconfig_guard
        self._stopped = False

    @classmethod
    def start(
        cls,
        state_dir: Path,
        manifests: Sequence[Path] = (DEFAULT_MANIFESTS,),
        settings: SandboxSettings | None = None,
        clock: Callable[[], float] = time.time,
        *,
        name: str = "default",
        timing: str | None = None,
        data_plane: DataPlane | None = None,
        layers: Sequence[SettingsLayer] = (),
    ) -> Sandbox:
        """Start everything and apply ``manifests`` (files or directories; by default
        the packaged shop overlay).

        ``settings`` None reads ``sandbox-settings.yaml`` from a manifests directory (the
        overlay carries one, ``timing: compressed``), else upstream's defaults
        (``real-time``); ``layers`` (a scenario's ``sandbox:`` block, a sweep's cell) replace
        the values they name, ``timing`` (``--timing``) the named timing. ``clock``: wall
        time in Unix seconds for the store, kubelet and controllers. ``name`` names the kubeconfig
        context (``slagate-sandbox``, or ``slagate-sandbox-NAME`` for other names).
        ``data_plane`` (``--data-plane``) wins over the settings' ``data_plane``.
        ``ConfigError`` for a bad manifest or settings file or without
        ``slagate[sandbox]`` (its pods run the shop), ``SandboxError`` if a part cannot start.
        """
        SANDBOX.require("the sandbox")
        if settings is not None and (timing is not None or layers):
            raise ConfigError("pass either settings or a timing name and layers, not both")
        settings = settings or load_settings(manifests, timing, layers)  # before any file
        state_dir = state_dir.resolve()
        state_dir.mkdir(parents=True, exist_ok=True)
        if data_plane is not None:
            settings = dataclasses.replace(settings, data_plane=data_plane)
        store = ObjectStore(event_window=settings.watch_event_window, clock=_datetime_clock(clock))
        apply_manifests(store, load_for(manifests, settings.data_plane))
        with ExitStack() as undo:
            server = ApiServer(
                store, settings=ApiServerSettings(bookmark_interval_s=settings.bookmark_interval_s)
            ).start()
            undo.callback(server.stop)
            guard = FileGuard([state_dir / "kubeconfig"])  # before the token is written
            undo.callback(guard.close)
            kubeconfig = server.write_kubeconfig(
                state_dir / "kubeconfig", context=context_name(name)
            )
            proxy = ProxySupervisor(
                store,
                kubeconfig,
                state_dir,
                settings.endpoint_propagation_delay_s,
                data_plane=settings.data_plane,
                jitter_s=settings.endpoint_propagation_jitter_s,
                target_group=settings.target_group,
            ).start()
            undo.callback(proxy.stop)
            proxy.wait_published(_proxied_services(store), PUBLISH_TIMEOUT_S)
            network = PodNetwork.random()
            kubelet = Kubelet(store, settings, state_dir, network, clock)
            kubelet.start()
            undo.callback(kubelet.stop)
            controllers = ControllerManager(store, settings, kubelet, clock)
            controllers.start()
            undo.callback(controllers.stop)
            monitoring = MonitoringServer(store, kubelet).start()
            undo.callback(monitoring.stop)
            prometheus = _start_prometheus(state_dir, settings, monitoring, proxy)
            undo.pop_all()
        logger.info("sandbox up: API %s, pod network %s", server.url, network.network)
        parts = (server, proxy, kubelet, controllers, network, monitoring, prometheus, guard)
        return cls(state_dir, settings, store, *parts)

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def api_url(self) -> str:
        return self.server.url

    @property
    def prometheus_url(self) -> str | None:
        """``http://127.0.0.1:PORT`` of the sandbox's Prometheus; None when it runs without
        one (no ``prometheus`` binary)."""
        return self.prometheus.url if self.prometheus is not None else None

    @property
    def routing_delay_s(self) -> float:
        """The longest the proxy lags an EndpointSlice change (delay, and jitter if any)."""
        return self.settings.routing_delay_s

    @property
    def profile(self) -> SandboxProfile:
        """The timings, the data plane, the node model and the containers' signalling in
        force, and what enforces CPU limits (run.json, reports, ``status``)."""
        signals = self.kubelet.pid_isolation.describe()
        update = {"cpu_limits": self.kubelet.cpu_limits, "container_signals": signals}
        return self.settings.profile.model_copy(update=update)

    def service_urls(self) -> dict[ServiceKey, str]:
        """Every proxied Service and its URL (first port), as published."""
        return self.proxy.urls()

    def service_url(self, name: str, namespace: str = "default") -> str:
        """``http://127.0.0.1:PORT`` of the Service's first port, through the proxy."""
        url = self.proxy.urls().get(ServiceKey(namespace, name))
        if url is None:
            known = ", ".join(sorted(str(k) for k in self.proxy.urls())) or "none"
            raise SandboxError(
                f"service {namespace}/{name} has no proxy URL (not found, or no TCP port); "
                f"proxied services: {known}"
            )
        return url

    def stop(self) -> None:
        """Prometheus, monitoring, controllers, pods (gracefully), proxy, API server, then
        the kubeconfig is removed. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self.prometheus is not None:
            self.prometheus.stop()
        self.monitoring.stop()
        self.controllers.stop()
        self.kubelet.stop()
        self.proxy.stop()
        self.server.stop()
        self._kubeconfig_guard.close()  # removes the kubeconfig
        logger.info("sandbox stopped")

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def context_name(sandbox_name: str) -> str:
    """The kubeconfig context of a sandbox: ``slagate-sandbox[-NAME]``."""
    return CONTEXT if sandbox_name == "default" else f"{CONTEXT}-{sandbox_name}"


def _datetime_clock(clock: Callable[[], float]) -> Callable[[], datetime]:
    return lambda: datetime.fromtimestamp(clock(), UTC)


def _proxied_services(store: ObjectStore) -> list[ServiceKey]:
    services = store.list(Selection(SERVICES)).items
    return [service_key(s) for s in services if service_ports(s)]


def _start_prometheus(
    state_dir: Path, settings: SandboxSettings, monitoring: MonitoringServer, proxy: ProxySupervisor
) -> PrometheusServer | None:
    sources = ScrapeSources(monitoring.address, proxy.metrics_address)
    return start_prometheus(state_dir, render_config(sources, settings.scrape_interval_s))
