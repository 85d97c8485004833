"""``Sandbox.start`` in-process: the Python API the harness uses, and its clean stop.

The refusals start no process and run with the unit tests; the full start is ``e2e``.
"""

from __future__ import annotations

import stat
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from slagate.errors import ConfigError, ExtraNotInstalled
from slagate.sandbox import Sandbox
from slagate.sandbox.inspecting import is_available
from slagate.sandbox.monitoring import missing_message
from slagate.sandbox.objects.resources import DEPLOYMENTS, SERVICES
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.proxy.supervising import URL_ANNOTATION


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_an_invalid_manifest_refuses_the_start_before_any_process_runs(tmp_path: Path) -> None:
    manifest = tmp_path / "svc.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 0}]\n"
    )
    before = children()

    with pytest.raises(
        ConfigError, match=r'svc.yaml, document 1 \(Service "web"\):\n.*spec.ports\[0\].port'
    ):
        Sandbox.start(tmp_path / "state", [manifest])

    assert children() == before
    assert not (tmp_path / "state" / "kubeconfig").exists()


def test_without_the_extra_the_start_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)

    with pytest.raises(ExtraNotInstalled, match=r"\(uvicorn\): pip install 'slagate\[sandbox\]'"):
        Sandbox.start(tmp_path / "state")

    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_the_overlay_serves_through_the_proxy_and_stops_cleanly_even_without_prometheus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)  # pods run in the current directory: their SQLite files go here
    monkeypatch.setenv("SLAGATE_PROMETHEUS", str(tmp_path / "no-prometheus"))
    before = children()

    with Sandbox.start(tmp_path / "state") as sandbox:
        prometheus_url = sandbox.prometheus_url
        wait_available(sandbox)
        started = children() - before
        url = sandbox.service_url("product")
        products = get_routed(f"{url}/products", sandbox.settings.endpoint_propagation_delay_s + 5)
        service = sandbox.store.get(SERVICES, "default", "product")
        kubeconfig_mode = stat.S_IMODE(sandbox.kubeconfig.stat().st_mode)

    assert products.status_code == 200
    assert service["metadata"]["annotations"][URL_ANNOTATION] == url
    assert service["status"]["loadBalancer"]["ingress"][0]["ip"] == "127.0.0.1"
    assert kubeconfig_mode == 0o600
    assert not (tmp_path / "state" / "kubeconfig").exists()  # its token opens nothing now
    assert len(started) >= 4  # the proxy, two product pods, one order pod
    assert children() == before
    assert prometheus_url is None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings.count(missing_message()) == 1


def wait_available(sandbox: Sandbox, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(is_available(d) for d in sandbox.store.list(Selection(DEPLOYMENTS)).items):
        assert time.monotonic() < deadline, "deployments did not become available"
        time.sleep(0.1)


def get_routed(url: str, timeout_s: float) -> httpx.Response:
    """GET until the proxy routes (no 503 of its own) or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5, trust_env=False) as http:
        while True:
            response = http.get(url)
            if "x-slagate-proxy" not in response.headers or time.monotonic() > deadline:
                return response
            time.sleep(0.1)
