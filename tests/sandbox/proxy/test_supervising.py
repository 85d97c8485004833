"""The daemon's side of the proxy: the child process, and Service addresses in the API."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from slagate.errors import SandboxError
from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.resources import SERVICES
from slagate.sandbox.proxy import ServiceKey
from slagate.sandbox.proxy.supervising import URL_ANNOTATION, ProxySupervisor
from tests.sandbox.proxy.test_running import service

WEB = ServiceKey("default", "web")


@pytest.fixture
def store() -> ObjectStore:
    store = ObjectStore()
    store.create(SERVICES, service(), "default")
    return store


@pytest.fixture
def supervisor(store: ObjectStore, tmp_path: Path) -> Iterator[ProxySupervisor]:
    with ApiServer(store) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        running = ProxySupervisor(store, kubeconfig, tmp_path, delay_s=0.1).start()
        try:
            yield running
        finally:
            running.stop()


def test_each_service_gets_its_proxy_address_published(
    store: ObjectStore, supervisor: ProxySupervisor
) -> None:
    supervisor.wait_published([WEB], timeout_s=15)

    url = supervisor.urls()[WEB]
    stored = store.get(SERVICES, "default", "web")
    port = int(url.rsplit(":", 1)[1])
    assert stored["metadata"]["annotations"][URL_ANNOTATION] == url
    assert stored["status"]["loadBalancer"]["ingress"] == [
        {"ip": "127.0.0.1", "ports": [{"port": port, "protocol": "TCP"}]}
    ]


def test_a_dead_proxy_is_restarted_on_the_same_port(supervisor: ProxySupervisor) -> None:
    supervisor.wait_published([WEB], timeout_s=15)
    url, first_pid = supervisor.urls()[WEB], supervisor.pid
    assert first_pid is not None

    os.kill(first_pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while supervisor.pid == first_pid or WEB not in supervisor.urls():
        assert time.monotonic() < deadline, "the proxy was not restarted"
        time.sleep(0.05)

    assert supervisor.urls()[WEB] == url
    assert "restarting it" not in supervisor.log_tail()  # the daemon logs that, not the proxy


def test_waiting_for_an_unknown_service_times_out_with_the_log(supervisor: ProxySupervisor) -> None:
    with pytest.raises(
        SandboxError, match=r"did not serve default/nope within 0.5 s; see .*proxy.log"
    ):
        supervisor.wait_published([ServiceKey("default", "nope")], timeout_s=0.5)


def test_the_proxy_reads_the_token_from_the_kubeconfig_not_its_command_line(
    supervisor: ProxySupervisor, tmp_path: Path
) -> None:
    supervisor.wait_published([WEB], timeout_s=15)  # it listed Services: the API let it in
    kubeconfig = yaml.safe_load((tmp_path / "kubeconfig").read_text(encoding="utf-8"))
    token = kubeconfig["users"][0]["user"]["token"]
    assert supervisor.pid is not None
    process = psutil.Process(supervisor.pid)

    assert token not in " ".join(process.cmdline())
    assert token not in " ".join(process.environ().values())
    assert token not in supervisor.log_tail()
