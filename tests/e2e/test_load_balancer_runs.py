"""The issue's proof behind an ALB, second half: the rolling deploy passes under the
``aws-alb`` data plane once the preStop covers the profile's 7 s deregistration
propagation (one `slagate run --sandbox` of 20 s of load). The first half, the shipped
2 s preStop failing there with the reason, is a cell of tests/e2e/test_sweep.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_sandbox_runs import ROLLING, overlay_copy, run_sandbox, verdicts

pytestmark = pytest.mark.e2e

COVERING_PRESTOP_S = 10
"""Above the compressed ALB's 7 s propagation, with room for a slow watch under load."""


def short_rolling() -> str:
    """The shared rolling scenario, its rollout earlier (two steps of a few seconds; each
    old pod's race is over 7 s after its deletion), and the client's SLAs only: the
    verdict needs no Prometheus fetch."""
    text = ROLLING.replace("duration: 24s", "duration: 20s").replace("at: 6s", "at: 4s")
    assert "duration: 20s" in text and "at: 4s" in text
    head, slas = text.split("slas:\n")
    kept = [
        line for line in slas.splitlines() if line.startswith("  - {id:") and "promql" not in line
    ]
    assert len(kept) == 4, kept
    return head + "slas:\n" + "\n".join(kept) + "\n"


def two_order_replicas(tmp_path: Path, change: Any = None) -> Path:
    """A copy of the sandbox overlay with ``change`` applied to the order Deployment. Two
    order replicas and no HPA: on a busy machine the HPA scales order out, and the rollout
    of more pods outlasts the load, so that no request meets an old pod's race."""

    def two_replicas(deployment: dict[str, Any]) -> None:
        deployment["spec"]["replicas"] = 2
        if change is not None:
            change(deployment)

    manifests = overlay_copy(tmp_path, "order.yaml", "Deployment", two_replicas)
    (manifests / "order-hpa.yaml").unlink()
    return manifests


def behind_an_alb(tmp_path: Path, change: Any = None) -> Path:
    """``two_order_replicas`` whose settings say ``data_plane: aws-alb``, as a user's
    file would."""
    manifests = two_order_replicas(tmp_path, change)
    settings = manifests / "sandbox-settings.yaml"
    text = settings.read_text().replace("data_plane: per-request", "data_plane: aws-alb")
    assert "data_plane: aws-alb" in text
    settings.write_text(text)
    return manifests


def test_the_rolling_deploy_passes_behind_an_alb_once_the_prestop_covers_it(
    tmp_path: Path,
) -> None:
    def cover_the_propagation(deployment: dict[str, Any]) -> None:
        spec = deployment["spec"]["template"]["spec"]
        spec["terminationGracePeriodSeconds"] = COVERING_PRESTOP_S + 10  # preStop + drain
        container = spec["containers"][0]
        container["lifecycle"]["preStop"]["sleep"]["seconds"] = COVERING_PRESTOP_S

    code, run_dir, output = run_sandbox(
        tmp_path, short_rolling(), behind_an_alb(tmp_path, cover_the_propagation)
    )

    assert code == 0, output
    assert {v["status"] for v in verdicts(run_dir).values()} == {"pass"}, verdicts(run_dir)
