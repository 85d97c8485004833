"""The proxy process (``python -m slagate.sandbox proxy``) against a sandbox API server.

Services and EndpointSlices are written into the store; the proxy must learn them over
HTTP with the official client, publish its ports in the ports file, follow changes
(also after its watches were cut) and exit promptly on SIGTERM.
"""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.customresources import custom_types
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.applying import apply_manifests, load_for
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import ENDPOINT_SLICES, PODS, SERVICES
from slagate.sandbox.proxy import ServiceKey, read_ports_file
from slagate.sandbox.proxy.portsfile import read_metrics_port
from slagate.sandbox.proxy.running import ISTIO_GROUP
from slagate.sandbox.settings import DataPlane
from tests.sandbox.proxy.harness import Upstream

WEB = ServiceKey("default", "web")


def service(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80}]},
    }


def endpoint_slice(*ports: int, ready: bool = True) -> dict[str, Any]:
    """One slice per upstream port is not how upstream does it; one endpoint per port is
    enough here: every upstream listens on 127.0.0.1 with a port of its own."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"web-{ports[0]}", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": ready}}],
        "ports": [{"name": "http", "port": ports[0], "protocol": "TCP"}],
    }


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def answer(port: int) -> tuple[int, bytes]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        client.request("GET", "/")
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


class ProxyProcess:
    def __init__(
        self, kubeconfig: Path, ports_file: Path, log: Path, delay_s: float, *options: str
    ) -> None:
        self.ports_file = ports_file
        self.log = log
        argv = [sys.executable, "-m", "slagate.sandbox", "proxy", "--kubeconfig", str(kubeconfig)]
        argv += ["--ports-file", str(ports_file), "--delay", str(delay_s), *options]
        with log.open("wb") as out:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def port(self, key: ServiceKey) -> int:
        wait_until(lambda: key in read_ports_file(self.ports_file), f"{key} in the ports file")
        return read_ports_file(self.ports_file)[key][0].proxy_port

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore()


@pytest.fixture
def server(store: ObjectStore) -> Iterator[ApiServer]:
    with ApiServer(store) as running:
        yield running


@pytest.fixture
def proxy(server: ApiServer, tmp_path: Path) -> Iterator[ProxyProcess]:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    process = ProxyProcess(kubeconfig, tmp_path / "ports.json", tmp_path / "proxy.log", 0.2)
    yield process
    process.stop()


def test_the_proxy_follows_services_and_slices_over_the_api(
    store: ObjectStore, server: ApiServer, proxy: ProxyProcess, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, b = upstreams
    store.create(SERVICES, service(), "default")
    store.create(ENDPOINT_SLICES, endpoint_slice(a.port), "default")
    port = proxy.port(WEB)
    wait_until(lambda: answer(port) == (200, b"a"), "routing to a")

    server.cut_watches(abrupt=True)  # the informers must re-list and carry on
    store.create(ENDPOINT_SLICES, endpoint_slice(b.port), "default")
    store.delete(ENDPOINT_SLICES, "default", f"web-{a.port}")
    wait_until(lambda: answer(port) == (200, b"b"), "routing to b only")

    store.delete(SERVICES, "default", "web")
    wait_until(lambda: WEB not in read_ports_file(proxy.ports_file), "the Service's port to close")
    assert proxy.stop() == 0
    assert read_ports_file(proxy.ports_file) == {}


def test_a_not_ready_endpoint_is_not_routed(
    store: ObjectStore, proxy: ProxyProcess, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, _ = upstreams
    store.create(SERVICES, service(), "default")
    store.create(ENDPOINT_SLICES, endpoint_slice(a.port, ready=False), "default")
    port = proxy.port(WEB)

    time.sleep(0.4)  # twice the propagation delay: the slice has been applied
    assert answer(port) == (503, b"no healthy upstream")
    assert a.paths == []


def test_an_unreadable_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-m",
        "slagate.sandbox",
        "proxy",
        "--kubeconfig",
        str(tmp_path / "missing"),
    ]
    argv += ["--ports-file", str(tmp_path / "ports.json")]

    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)

    assert done.returncode == 1
    assert "cannot load kubeconfig" in done.stderr
    assert "Traceback" not in done.stderr


def web_pod() -> dict[str, Any]:
    """A pod of Deployment ``web`` (through ReplicaSet ``web-5f6``) at 127.0.0.1."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-5f6-abcde",
            "labels": {"app": "web", "pod-template-hash": "5f6"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5f6",
                 "uid": "rs-uid", "controller": True},
            ],
        },
        "spec": {"containers": [{"name": "web", "image": "python"}]},
    }  # fmt: skip


def with_pod_ip(pod: RawObject) -> RawObject:
    pod.setdefault("status", {})["podIP"] = "127.0.0.1"
    return pod


def web_requests(metrics_port: int) -> dict[tuple[str, str, str], float]:
    """``istio_requests_total`` by (destination workload, response code, flags)."""
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", trust_env=False).text
    return {
        (s.labels["destination_workload"], s.labels["response_code"], s.labels["response_flags"]): (
            s.value
        )
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "istio_requests_total"
    }


def test_the_proxy_serves_istio_metrics_naming_the_pods_workload(
    store: ObjectStore, proxy: ProxyProcess, upstreams: tuple[Upstream, Upstream]
) -> None:
    a, _ = upstreams
    store.create(PODS, web_pod(), "default")
    store.modify(PODS, "default", "web-5f6-abcde", with_pod_ip, subresource="status")
    store.create(SERVICES, service(), "default")
    port = proxy.port(WEB)
    metrics_port = read_metrics_port(proxy.ports_file)
    assert metrics_port is not None
    unrouted = answer(port)
    store.create(ENDPOINT_SLICES, endpoint_slice(a.port), "default")
    wait_until(lambda: answer(port) == (200, b"a"), "routing to a")
    wait_until(lambda: ("web", "200", "-") in web_requests(metrics_port), "a named workload")

    counted = web_requests(metrics_port)

    assert unrouted[0] == 503
    assert counted[("unknown", "503", "UH")] >= 1
    assert counted[("web", "200", "-")] >= 1


def test_the_istio_proxy_reads_virtual_services_and_names_what_it_does_not_model(
    store: ObjectStore, server: ApiServer, tmp_path: Path, upstreams: tuple[Upstream, Upstream]
) -> None:
    crds = apply_manifests(store, load_for([], DataPlane.ISTIO))
    served = {(t.kind, t.version): t for crd in crds for t in custom_types(crd)}
    routes, rules = served["VirtualService", "v1"], served["DestinationRule", "v1"]
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    log = tmp_path / "proxy.log"
    proxy = ProxyProcess(kubeconfig, tmp_path / "ports.json", log, 0.2, "--data-plane", "istio")
    try:
        store.create(SERVICES, service(), "default")
        store.create(ENDPOINT_SLICES, endpoint_slice(upstreams[0].port), "default")
        port = proxy.port(WEB)
        wait_until(lambda: answer(port) == (200, b"a"), "routing to a")
        abort = {"abort": {"httpStatus": 503, "percentage": {"value": 100}}}
        route = {"route": [{"destination": {"host": "web"}}], "fault": abort}
        store.create(
            routes, istio("VirtualService", {"hosts": ["web"], "http": [route]}), "default"
        )
        store.create(rules, istio("DestinationRule", {"host": "web", "subsets": []}), "default")
        wait_until(lambda: answer(port) == (503, b"fault filter abort"), "the fault to apply")

        store.delete(routes, "default", "web")
        wait_until(lambda: answer(port) == (200, b"a"), "the fault to go with its object")
    finally:
        proxy.stop()
    assert "DestinationRule default/web: spec.subsets is not modelled" in log.read_text()


def istio(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{ISTIO_GROUP}/v1", "kind": kind, "metadata": {"name": "web"},
            "spec": spec}  # fmt: skip
