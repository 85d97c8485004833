"""The daemon's side of the proxy: run the child process, publish its ports on Services.

``ProxySupervisor`` spawns ``python -m slagate.sandbox proxy`` (own session, SIGKILL when
its parent thread dies), then one thread polls the ports file and the child: each
Service port the proxy serves is written into the Service, as a cloud controller writes a
load balancer's address::

    status.loadBalancer.ingress: [{ip: 127.0.0.1, ports: [{port: 40123, protocol: TCP}]}]
    metadata.annotations["sandbox.slagate.io/url"]: http://127.0.0.1:40123  (first port)

A proxy that dies is restarted (logged with its exit status); it reads the old ports
file and binds the same ports again when they are free, so URLs survive a restart. The
port of the proxy's own ``/metrics`` (Istio's request metrics) is in the same file
(``metrics_port``), for Prometheus.
Threads only: this runs inside the daemon, which has no event loop.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from slagate.children import child_environment, die_with_parent, log_tail, stop_child
from slagate.errors import ApiError, SandboxError
from slagate.sandbox.apiserver.store import Change, ObjectStore
from slagate.sandbox.objects.bodies import RawObject, ensure_mapping, mapping_at
from slagate.sandbox.objects.resources import SERVICES
from slagate.sandbox.proxy.portsfile import PublishedPort, read_metrics_port, read_ports_file
from slagate.sandbox.proxy.topology import ServiceKey
from slagate.sandbox.settings import DataPlane
from slagate.sandbox.targetgroups import TargetGroupTiming

logger = logging.getLogger(__name__)

URL_ANNOTATION = "sandbox.slagate.io/url"
PROXY_HOST = "127.0.0.1"
POLL_S = 0.1
RESTART_BACKOFF_S = 1.0
_LOG_TAIL_CHARS = 2000


def service_url(ports: Iterable[PublishedPort]) -> str | None:
    """The URL of a Service's first proxied port, None if it has no TCP port."""
    first = next(iter(ports), None)
    return f"http://{PROXY_HOST}:{first.proxy_port}" if first else None


def ingress(ports: Iterable[PublishedPort]) -> list[dict[str, Any]]:
    listed = [{"port": p.proxy_port, "protocol": "TCP"} for p in ports]
    return [{"ip": PROXY_HOST, "ports": listed}] if listed else []


class ProxySupervisor:
    """Runs the proxy child for one sandbox and keeps its Services' addresses published.

    ``delay_s`` is the endpoint propagation delay, ``data_plane`` the proxy's profile
    and ``jitter_s`` its jitter, ``target_group`` its target groups' timings under
    ``aws-alb``/``aws-nlb`` (``SandboxSettings``); ``namespace`` None proxies every
    namespace. ``start`` must be called from a thread that outlives the proxy (the
    death signal fires when the spawning thread ends).
    """

    def __init__(
        self,
        store: ObjectStore,
        kubeconfig: Path,
        state_dir: Path,
        delay_s: float,
        namespace: str | None = None,
        *,
        data_plane: DataPlane = DataPlane.PER_REQUEST,
        jitter_s: float = 0.0,
        target_group: TargetGroupTiming | None = None,
    ) -> None:
        self.store = store
        self.ports_file = state_dir / "proxy-ports.json"
        self.log_path = state_dir / "proxy.log"
        self._argv = [sys.executable, "-m", "slagate.sandbox", "proxy"]
        self._argv += ["--kubeconfig", str(kubeconfig), "--ports-file", str(self.ports_file)]
        self._argv += ["--delay", repr(delay_s), "--jitter", repr(jitter_s)]
        self._argv += ["--data-plane", data_plane.value]
        self._argv += ["--target-group", target_group.to_argument()] if target_group else []
        self._argv += ["--namespace", namespace] if namespace else []
        self._popen: subprocess.Popen[bytes] | None = None
        self._published: dict[ServiceKey, tuple[PublishedPort, ...]] = {}
        self._metrics_port: int | None = None
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proxy-supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self) -> ProxySupervisor:
        self.ports_file.unlink(missing_ok=True)
        self._popen = self._spawn()
        self._thread.start()
        return self

    @property
    def metrics_port(self) -> int | None:
        """The loopback port of the proxy's ``/metrics``; None until it published one."""
        with self._changed:
            return self._metrics_port

    @property
    def metrics_address(self) -> str | None:
        """``127.0.0.1:PORT`` of the proxy's ``/metrics`` (a Prometheus target), or None."""
        port = self.metrics_port
        return f"{PROXY_HOST}:{port}" if port is not None else None

    def urls(self) -> dict[ServiceKey, str]:
        """The published URL of every proxied Service."""
        with self._changed:
            published = dict(self._published)
        return {key: url for key, ports in published.items() if (url := service_url(ports))}

    def wait_published(self, keys: Iterable[ServiceKey], timeout_s: float) -> None:
        """Block until every Service in ``keys`` has its URL and the proxy its metrics port;
        ``SandboxError`` on timeout or if the proxy keeps dying."""
        wanted = set(keys)
        with self._changed:
            done = self._changed.wait_for(
                lambda: wanted <= set(self._published) and self._metrics_port is not None,
                timeout_s,
            )
        if not done:
            missing = ", ".join(sorted(str(k) for k in wanted - set(self._published)))
            missing = missing or "its metrics port"
            raise SandboxError(
                f"the service proxy did not serve {missing} within {timeout_s:g} s; "
                f"see {self.log_path}:\n{self.log_tail()}"
            )

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop publishing, SIGTERM the proxy, SIGKILL it after ``timeout_s``. Idempotent."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        popen, self._popen = self._popen, None
        stop_child(popen, timeout_s, "service proxy")

    def log_tail(self) -> str:
        return log_tail(self.log_path, _LOG_TAIL_CHARS)

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_environment(),
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )

    def _run(self) -> None:
        while not self._stopping.wait(POLL_S):
            try:
                self._check_child()
                self._publish(read_ports_file(self.ports_file))
                self._note_metrics_port(read_metrics_port(self.ports_file))
            except SandboxError as error:  # a half-written file cannot happen; a bad one can
                logger.warning("%s", error)

    def _check_child(self) -> None:
        popen = self._popen
        if popen is None or popen.poll() is None or self._stopping.is_set():
            return
        logger.error(
            "service proxy (pid %d) exited with status %s; restarting it. Log tail:\n%s",
            popen.pid,
            popen.returncode,
            self.log_tail(),
        )
        if not self._stopping.wait(RESTART_BACKOFF_S):
            self._popen = self._spawn()

    def _note_metrics_port(self, port: int | None) -> None:
        if port is None:
            return
        with self._changed:
            if port != self._metrics_port and self._metrics_port is not None:
                logger.warning(
                    "the service proxy's metrics moved from port %d to %d: Prometheus "
                    "scrapes the old one until the sandbox restarts", self._metrics_port, port
                )  # fmt: skip
            self._metrics_port = port
            self._changed.notify_all()

    def _publish(self, ports_map: dict[ServiceKey, tuple[PublishedPort, ...]]) -> None:
        for key, ports in ports_map.items():
            with contextlib.suppress(ApiError):  # deleted meanwhile: nothing to publish
                _write_address(self.store, key, ports)
        with self._changed:
            if ports_map != self._published:
                self._published = ports_map
            self._changed.notify_all()


def _write_address(store: ObjectStore, key: ServiceKey, ports: tuple[PublishedPort, ...]) -> None:
    """Write ingress and URL annotation unless the Service already carries them (no-op
    writes make no new revision, but skipping them saves two deep copies)."""
    current = store.get(SERVICES, key.namespace, key.name)
    wanted_ingress, url = ingress(ports), service_url(ports)
    if mapping_at(current, "status", "loadBalancer").get("ingress") != wanted_ingress:
        store.modify(
            SERVICES, key.namespace, key.name, _with_ingress(wanted_ingress), subresource="status"
        )
    annotations = mapping_at(current, "metadata", "annotations")
    if url is not None and annotations.get(URL_ANNOTATION) != url:
        store.modify(SERVICES, key.namespace, key.name, _with_url(url))


def _with_ingress(wanted: list[dict[str, Any]]) -> Change:
    def change(service: RawObject) -> RawObject:
        ensure_mapping(service, "status", "loadBalancer")["ingress"] = wanted
        return service

    return change


def _with_url(url: str) -> Change:
    def change(service: RawObject) -> RawObject:
        ensure_mapping(service, "metadata", "annotations")[URL_ANNOTATION] = url
        return service

    return change
