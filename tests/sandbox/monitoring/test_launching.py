"""Finding the prometheus binary, and running it (the real one: ``e2e``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil
import pytest

from slagate.errors import SandboxError
from slagate.sandbox.monitoring.configuring import ScrapeSources, render_config
from slagate.sandbox.monitoring.launching import (
    PrometheusServer,
    find_prometheus,
    missing_message,
    start_prometheus,
)

ON_PATH = {"prometheus": "/opt/bin/prometheus", "/srv/prom": "/srv/prom"}


def which(name: str) -> str | None:
    return ON_PATH.get(name)


@pytest.mark.parametrize(
    ("environ", "found"),
    [
        pytest.param({}, Path("/opt/bin/prometheus"), id="on-path"),
        pytest.param({"SLAGATE_PROMETHEUS": "/srv/prom"}, Path("/srv/prom"), id="named"),
        pytest.param({"SLAGATE_PROMETHEUS": "/nowhere/prom"}, None, id="named-but-missing"),
    ],
)
def test_the_binary_is_named_by_the_environment_or_found_on_path(
    environ: dict[str, str], found: Path | None
) -> None:
    assert find_prometheus(environ, which) == found


def test_a_missing_binary_says_how_to_install_it() -> None:
    assert missing_message({}) == (
        "prometheus not found: the sandbox runs without Prometheus (PromQL SLAs are refused); "
        "install it with `apt-get install -y prometheus` (as root, Debian/Ubuntu) or set "
        "SLAGATE_PROMETHEUS to a prometheus binary"
    )
    assert missing_message({"SLAGATE_PROMETHEUS": "/x"}).startswith(
        "SLAGATE_PROMETHEUS=/x is not an executable: "
    )


def test_without_a_binary_no_prometheus_starts_and_one_line_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    started = start_prometheus(tmp_path, "", {"SLAGATE_PROMETHEUS": str(tmp_path / "none")})

    assert started is None
    assert [r.getMessage() for r in caplog.records] == [
        missing_message({"SLAGATE_PROMETHEUS": str(tmp_path / "none")})
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_a_real_prometheus_starts_ready_and_stops(tmp_path: Path) -> None:
    binary = find_prometheus()
    if binary is None:
        pytest.skip(missing_message())
    config = render_config(ScrapeSources("127.0.0.1:9"), scrape_interval_s=1.0)

    server = PrometheusServer(binary, tmp_path, config).start()
    try:
        process = psutil.Process(server.pid)
        ready = httpx.get(f"{server.url}/-/ready", trust_env=False)
        loaded = httpx.get(f"{server.url}/api/v1/status/config", trust_env=False).json()
    finally:
        server.stop()

    assert ready.status_code == 200
    assert "job_name: kube-state-metrics" in loaded["data"]["yaml"]
    assert (tmp_path / "prometheus" / "data").is_dir()
    assert not process.is_running()


@pytest.mark.e2e
def test_a_prometheus_that_cannot_start_raises_with_its_log(tmp_path: Path) -> None:
    binary = find_prometheus()
    if binary is None:
        pytest.skip(missing_message())

    with pytest.raises(SandboxError, match=r"did not become ready(.|\n)*prometheus.yml"):
        PrometheusServer(binary, tmp_path, "global: {scrape_interval: soon}\n").start(5.0)
