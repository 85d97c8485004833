"""The ``kube-proxy`` data plane end to end: real pods, the real proxy process, a real
keep-alive client (``e2e``: one sandbox, no Prometheus, about 15 s).

Pods are small HTTP/1.1 keep-alive servers (the ``python`` image) answering with their
pod name, so a client can tell which pod served it. The sandbox reads ``data_plane:
kube-proxy`` from the folder's ``sandbox-settings.yaml``, as a user's would.
"""

from __future__ import annotations

import http.client
import json
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from slagate.sandbox import Sandbox
from slagate.sandbox.objects.resources import DEPLOYMENTS, ENDPOINT_SLICES
from slagate.sandbox.objects.selection import Selection

pytestmark = pytest.mark.e2e
T = TypeVar("T")

PRESTOP_S = 8
"""Long enough that the terminating pods still serve once the proxy has caught up
(routing delay 1 s + up to 1 s jitter, then the checks: ~3 s)."""

SERVER = textwrap.dedent(
    """
    import http.server, os, signal, sys
    class Name(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            body = os.environ["POD_NAME"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    address = (os.environ["POD_IP"], 8080)
    # PID 1 of its container: without a handler the kernel would drop SIGTERM
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    http.server.ThreadingHTTPServer(address, Name).serve_forever()
    """
)

MANIFEST = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: echo}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: echo}}}}
  template:
    metadata: {{labels: {{app: echo}}}}
    spec:
      terminationGracePeriodSeconds: {PRESTOP_S + 5}
      containers:
        - name: echo
          image: python:3
          command: [python, -c, {json.dumps(SERVER)}]
          ports: [{{containerPort: 8080}}]
          env:
            - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
            - {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
          readinessProbe:
            tcpSocket: {{port: 8080}}
            periodSeconds: 1
          lifecycle:
            preStop: {{sleep: {{seconds: {PRESTOP_S}}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: echo}}
spec:
  selector: {{app: echo}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def test_keep_alive_stickiness_and_the_terminating_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "echo.yaml").write_text(MANIFEST)
    (manifests / "sandbox-settings.yaml").write_text("data_plane: kube-proxy\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLAGATE_PROMETHEUS", str(tmp_path / "no-prometheus"))

    with Sandbox.start(tmp_path / "state", [manifests]) as sandbox:
        host, port = sandbox.service_url("echo").removeprefix("http://").split(":")
        connect = lambda: http.client.HTTPConnection(host, int(port), timeout=5)  # noqa: E731
        pods = wait_for(lambda: names_on_new_connections(connect, 40), lambda n: len(n) == 2, 60)
        kept = connect()
        on_kept = {name_on(kept) for _ in range(30)}

        sandbox.store.modify(DEPLOYMENTS, "default", "echo", scaled_to_zero)
        wait_for(lambda: terminating_endpoints(sandbox), lambda n: n == 2, 10)
        time.sleep(sandbox.routing_delay_s + 0.5)  # the proxy has applied the change
        during_drain = names_on_new_connections(connect, 10)
        kept.close()

    assert sandbox.profile.data_plane == "kube-proxy"
    assert len(on_kept) == 1  # 30 requests on one connection: one pod (per request: both)
    assert on_kept <= pods
    assert during_drain and during_drain <= pods  # served by the terminating pods, no reset


def scaled_to_zero(deployment: dict[str, Any]) -> dict[str, Any]:
    deployment["spec"]["replicas"] = 0
    return deployment


def name_on(connection: http.client.HTTPConnection) -> str:
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.status == 200, response.read()
    return response.read().decode()


def names_on_new_connections(
    connect: Callable[[], http.client.HTTPConnection], count: int
) -> set[str]:
    """The pods that served ``count`` requests, each on a new connection (resets skipped:
    nothing is routed yet)."""
    names = set()
    for _ in range(count):
        connection = connect()
        try:
            names.add(name_on(connection))
        except (ConnectionError, http.client.RemoteDisconnected):
            pass
        finally:
            connection.close()
    return names


def terminating_endpoints(sandbox: Sandbox) -> int:
    slices = sandbox.store.list(Selection(ENDPOINT_SLICES, "default")).items
    return sum(
        1
        for endpoint_slice in slices
        for endpoint in endpoint_slice.get("endpoints") or []
        if endpoint["conditions"].get("terminating") and endpoint["conditions"].get("serving")
    )


def wait_for(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            assert done(value), f"still {value!r} after {timeout_s:g} s"
            return value
        time.sleep(0.2)
