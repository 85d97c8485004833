"""``slagate demo``: the reference shop on loopback plus the smoke scenario, no cluster."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from slagate.run.orchestrating import RunOptions, RunResult, run_scenario
from slagate.shop.launching import LocalShop


def run_demo(scenario: Path, reports_dir: Path, console: Console) -> RunResult:
    """Start product and order services on free ports, run ``scenario`` against them."""
    with tempfile.TemporaryDirectory(prefix="slagate-demo-") as data:
        console.print("starting the reference shop (product + order services) on loopback")
        with LocalShop.start(Path(data)) as shop:
            console.print(f"  product {shop.product_url}  order {shop.order_url}")
            opts = RunOptions(
                scenario_path=scenario,
                host=shop.order_url,
                services={"product": shop.product_url},
                reports_dir=reports_dir,
            )
            return run_scenario(opts, console)
