"""The sandbox's monitoring endpoints on one loopback port: what Prometheus scrapes besides pods.

On a real cluster these are three different servers; here one threaded HTTP server in
the daemon answers for all of them, from the sandbox's own state:

    GET /sd/pods            http_sd targets: kubernetes_sd's pod role (``discovery``)
    GET /metrics            kube-state-metrics (``statemetrics``)
    GET /metrics/cadvisor   the kubelet's cAdvisor CPU counters (``cadvisor``)

Each answer is computed when it is asked for (a scrape reads the store and the process
trees at that moment), so nothing runs between scrapes. Threads, like the API server:
the daemon has no event loop.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from slagate.errors import SandboxError
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.metrics import ContainerCpuSource
from slagate.sandbox.monitoring.cadvisor import CadvisorCollector
from slagate.sandbox.monitoring.discovery import pod_target_groups
from slagate.sandbox.monitoring.statemetrics import StateMetricsCollector
from slagate.sandbox.objects.resources import PODS
from slagate.sandbox.objects.selection import Selection

logger = logging.getLogger(__name__)

PODS_SD_PATH = "/sd/pods"
STATE_METRICS_PATH = "/metrics"
CADVISOR_PATH = "/metrics/cadvisor"
HOST = "127.0.0.1"
IDLE_CONNECTION_S = 10.0
"""How long a keep-alive connection may stay idle (Prometheus reuses one per target)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, store: ObjectStore, registries: dict[str, CollectorRegistry]) -> None:
        self.store = store
        self.registries = registries
        super().__init__((HOST, 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_S
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        registry = self.server.registries.get(path)
        if registry is not None:
            self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
        elif path == PODS_SD_PATH:
            pods = self.server.store.list(Selection(PODS)).items
            self._send(200, json.dumps(pod_target_groups(pods)).encode(), "application/json")
        else:
            paths = ", ".join(sorted([PODS_SD_PATH, *self.server.registries]))
            self._send(404, f"not found; served: {paths}\n".encode(), "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class MonitoringServer:
    """Serves the endpoints above for ``store`` and the kubelet's ``containers`` (CPU)."""

    def __init__(self, store: ObjectStore, containers: ContainerCpuSource) -> None:
        state = CollectorRegistry(auto_describe=False)
        cadvisor = CollectorRegistry(auto_describe=False)
        state.register(StateMetricsCollector(store))
        cadvisor.register(CadvisorCollector(containers))
        self._registries = {STATE_METRICS_PATH: state, CADVISOR_PATH: cadvisor}
        self._store = store
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MonitoringServer:
        try:
            self._httpd = _Server(self._store, self._registries)
        except OSError as error:
            raise SandboxError(
                f"the sandbox's monitoring endpoints cannot listen: {error}"
            ) from error
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sandbox-monitoring",
            daemon=True,
        )
        self._thread.start()
        logger.info(
            "monitoring endpoints (http_sd, kube-state-metrics, cAdvisor) on %s", self.address
        )
        return self

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as a Prometheus target."""
        if self._httpd is None:
            raise SandboxError("the monitoring server is not started: call start() first")
        return f"{HOST}:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        """Stop answering; idempotent."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
