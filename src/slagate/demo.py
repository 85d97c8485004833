"""``slagate demo``: the main job with nothing installed but slagate.

A scenario that targets Kubernetes (the default, ``scenarios/rolling-deploy.yaml``) runs on
the embedded sandbox cluster started for the run; any other scenario runs against the
reference shop started locally on loopback. This is composition, above ``slagate.run``:
the run itself knows neither the sandbox nor the shop.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from slagate.lifecycle import RunResult
from slagate.run import (
    ClusterOptions,
    RunOptions,
    RunView,
    StartCluster,
    check_options,
    run_scenario,
)
from slagate.scenario import load_scenario
from slagate.shop.launching import LocalShop


def run_demo(
    scenario: Path, reports_dir: Path, view: RunView, start_sandbox: StartCluster
) -> RunResult:
    check_options(RunOptions(scenario, reports_dir=reports_dir))  # before the shop starts
    if load_scenario(scenario).target.kubernetes is not None:
        view.say(f"demo: {scenario} on the embedded sandbox cluster")
        cluster = ClusterOptions(sandbox=start_sandbox)
        return run_scenario(RunOptions(scenario, reports_dir=reports_dir, cluster=cluster), view)
    return _on_local_shop(scenario, reports_dir, view)


def _on_local_shop(scenario: Path, reports_dir: Path, view: RunView) -> RunResult:
    """Start product and order services on free ports, run ``scenario`` against them."""
    with tempfile.TemporaryDirectory(prefix="slagate-demo-") as data:
        view.say("demo: starting the reference shop (product + order) on loopback")
        with LocalShop.start(Path(data)) as shop:
            view.say(f"  product {shop.product_url}  order {shop.order_url}")
            opts = RunOptions(
                scenario_path=scenario,
                host=shop.order_url,
                services={"product": shop.product_url},
                reports_dir=reports_dir,
            )
            return run_scenario(opts, view)
