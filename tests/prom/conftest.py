"""A real Prometheus on loopback scraping a small exporter every second, shared per module.

The exporter serves ``slagate_test_requests_total{status}`` (a counter the tests bump) and
``slagate_test_ready`` (a gauge), so queries have real series with real timestamps.
Debian's ``prometheus`` must be installed (``make install`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from tests.fakes import free_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
READY_TIMEOUT_S = 30.0
CONFIG = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: exporter
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
"""


@dataclass
class Exporter:
    port: int
    requests: Counter
    ready: Gauge


@dataclass
class RunningPrometheus:
    url: str
    exporter: Exporter

    def wait_until(self, query: str, value: float, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until the instant ``query`` answers ``value`` (its first series): a scrape, not
        a sleep, is what a test waits for."""
        _wait_for(self.url, query, lambda found: found == value, timeout_s)

    def wait_at_least(self, query: str, value: float, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until the instant ``query`` answers ``value`` or more (its first series)."""
        _wait_for(self.url, query, lambda found: found >= value, timeout_s)


@pytest.fixture(scope="module")
def exporter() -> Exporter:
    registry = CollectorRegistry()
    requests = Counter("slagate_test_requests", "Requests served.", ["status"], registry=registry)
    ready = Gauge("slagate_test_ready", "Ready replicas.", registry=registry)
    port = free_port()
    start_http_server(port, addr="127.0.0.1", registry=registry)
    return Exporter(port, requests, ready)


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, exporter: Exporter
) -> Iterator[RunningPrometheus]:
    if not Path(PROMETHEUS).is_file():
        pytest.fail("Prometheus is not installed: `make install` installs it (or apt-get)")
    home = tmp_path_factory.mktemp("prometheus")
    (home / "prometheus.yml").write_text(CONFIG.format(port=exporter.port))
    port = free_port()
    with (home / "prometheus.log").open("w") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={home / 'prometheus.yml'}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_scraped(url)
        yield RunningPrometheus(url, exporter)
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_scraped(url: str) -> None:
    """Until Prometheus has scraped the exporter at least twice (rate() needs two points)."""
    _wait_for(url, "count_over_time(up[1m])", lambda found: found >= 2, READY_TIMEOUT_S)


def _wait_for(url: str, query: str, done: Callable[[float], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    found: float | None = None
    with httpx.Client(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            try:
                answer = http.get(f"{url}/api/v1/query", params={"query": query})
                result = answer.json()["data"]["result"]
                found = float(result[0]["value"][1]) if result else None
                if found is not None and done(found):
                    return
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            time.sleep(0.25)
    raise AssertionError(f"Prometheus at {url}: {query} was still {found} after {timeout_s:g} s")
