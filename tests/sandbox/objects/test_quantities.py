"""What the scheduler reserves for a pod, and which container a CPU limit belongs to."""

from __future__ import annotations

from typing import Any

import pytest

from slagate.sandbox.objects.quantities import cpu_limit_m, scheduled_cpu_m


def container(name: str, cpu: str | None = None, **extra: Any) -> dict[str, Any]:
    requests = {"requests": {"cpu": cpu}} if cpu is not None else {}
    return {"name": name, "resources": requests, **extra}


SIDECAR = {"restartPolicy": "Always"}


@pytest.mark.parametrize(
    ("spec", "reserved"),
    [
        pytest.param({"containers": [container("a", "100m"), container("b")]}, 100,
                     id="a-missing-request-counts-0"),
        pytest.param({"containers": [container("a", "100m")],
                      "initContainers": [container("migrate", "500m")]}, 500,
                     id="an-init-container-alone-when-larger"),
        pytest.param({"containers": [container("a", "300m")],
                      "initContainers": [container("migrate", "200m")]}, 300,
                     id="the-apps-when-larger"),
        pytest.param({"containers": [container("a", "100m")],
                      "initContainers": [container("proxy", "50m", **SIDECAR),
                                         container("migrate", "200m")]}, 250,
                     id="an-init-beside-the-sidecars-started-before-it"),
        pytest.param({"containers": [container("a", "100m")],
                      "initContainers": [container("migrate", "120m"),
                                         container("proxy", "50m", **SIDECAR)]}, 150,
                     id="a-sidecar-runs-with-the-apps"),
    ],
)  # fmt: skip
def test_the_scheduler_reserves_upstreams_effective_request(
    spec: dict[str, Any], reserved: int
) -> None:
    assert scheduled_cpu_m({"spec": spec}) == reserved


def test_an_init_containers_cpu_limit_is_found() -> None:
    limited = {"name": "proxy", "resources": {"limits": {"cpu": "250m"}}}
    pod = {"spec": {"containers": [container("a")], "initContainers": [limited]}}
    assert (cpu_limit_m(pod, "proxy"), cpu_limit_m(pod, "a")) == (250, None)
