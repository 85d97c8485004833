"""``slagate demo``: the main job with nothing installed but slagate.

A scenario that targets Kubernetes (the default, ``scenarios/rolling-deploy.yaml``) runs on
the embedded sandbox cluster started for the run; any other scenario runs against the
reference shop started locally on loopback.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from slagate.run.cluster import ClusterOptions
from slagate.run.orchestrating import RunOptions, RunResult, run_scenario
from slagate.scenario import load_scenario
from slagate.shop.launching import LocalShop


def run_demo(scenario: Path, reports_dir: Path, console: Console) -> RunResult:
    if load_scenario(scenario).target.kubernetes is not None:
        console.print(f"demo: {scenario} on the embedded sandbox cluster")
        opts = RunOptions(scenario, reports_dir=reports_dir, cluster=ClusterOptions(sandbox=True))
        return run_scenario(opts, console)
    return _on_local_shop(scenario, reports_dir, console)


def _on_local_shop(scenario: Path, reports_dir: Path, console: Console) -> RunResult:
    """Start product and order services on free ports, run ``scenario`` against them."""
    with tempfile.TemporaryDirectory(prefix="slagate-demo-") as data:
        console.print("demo: starting the reference shop (product + order) on loopback")
        with LocalShop.start(Path(data)) as shop:
            console.print(f"  product {shop.product_url}  order {shop.order_url}")
            opts = RunOptions(
                scenario_path=scenario,
                host=shop.order_url,
                services={"product": shop.product_url},
                reports_dir=reports_dir,
            )
            return run_scenario(opts, console)
