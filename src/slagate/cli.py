"""The ``slagate`` command line: the only place that exits.

Exit codes: 0 every SLA passed, 1 an SLA failed (or had no data), 2 could not run (bad
scenario, preflight, load generator failure), 3 aborted (Ctrl-C, SIGTERM, safety stop).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from slagate.errors import SlagateError
from slagate.report import write_report
from slagate.run import RunOptions, RunResult, check_run, run_scenario
from slagate.run.cluster import ClusterOptions
from slagate.run.verdicts_table import render_verdicts
from slagate.sandbox import sandbox_cli
from slagate.shop.cli import shop

EXIT_PASS, EXIT_FAIL, EXIT_COULD_NOT_RUN, EXIT_ABORTED = 0, 1, 2, 3


def _parse_services(values: Sequence[str]) -> dict[str, str]:
    services = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url:
            raise click.BadParameter(
                f"{value!r}: expected NAME=URL, e.g. product=http://127.0.0.1:8001",
                param_hint="--service",
            )
        services[name.strip()] = url.strip()
    return services


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slagate")
def main() -> None:
    """Prove a service keeps its autoscaling and zero-downtime SLAs."""


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--host", help="Target base URL (overrides target.host).")
@click.option(
    "--service",
    "services",
    multiple=True,
    metavar="NAME=URL",
    help="A named service URL for the locustfile (repeatable).",
)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where run folders go.",
)
@click.option("--run-dir", type=click.Path(path_type=Path), help="Use this run folder.")
@click.option(
    "--sandbox",
    is_flag=True,
    help="Start the embedded cluster for this run (deploy/shop/sandbox by default).",
)
@click.option(
    "--manifests",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Manifests (files or folders) the sandbox applies (repeatable).",
)
@click.option("--kubeconfig", type=click.Path(path_type=Path), help="Kubeconfig of a cluster.")
@click.option("--context", help="Context in the kubeconfig.")
@click.option("--namespace", help="Namespace to watch and act in.")
def run(
    scenario: Path,
    host: str | None,
    services: tuple[str, ...],
    reports_dir: Path,
    run_dir: Path | None,
    sandbox: bool,
    manifests: tuple[Path, ...],
    kubeconfig: Path | None,
    context: str | None,
    namespace: str | None,
) -> None:
    """Run SCENARIO: load, record, judge. Exit 0 pass, 1 fail, 2 could not run, 3 aborted.

    Against a cluster: --kubeconfig/--context/--namespace (or in-cluster config), or
    --sandbox to start the embedded cluster for the run and stop it afterwards."""
    if manifests and not sandbox:
        raise click.BadParameter("only applies with --sandbox", param_hint="--manifests")
    cluster = ClusterOptions(kubeconfig, context, namespace, sandbox, manifests)
    services_map = _parse_services(services)
    opts = RunOptions(scenario, host, services_map, reports_dir, run_dir, cluster)
    _finish(lambda console: run_scenario(opts, console))


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    help="Judge with this scenario's SLAs instead of the recorded ones.",
)
def check(run_dir: Path, scenario: Path | None) -> None:
    """Re-judge a recorded RUN_DIR offline, with the same exit codes as `run`."""
    _finish(lambda console: check_run(run_dir, scenario))


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir: Path) -> None:
    """Rebuild RUN_DIR/report.html from the run folder and print its path."""
    try:
        path = write_report(run_dir)
    except (SlagateError, OSError) as e:
        Console(stderr=True).print(Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True)
        sys.exit(EXIT_COULD_NOT_RUN)
    click.echo(str(path))


@main.command()
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    default=Path("scenarios/rolling-deploy.yaml"),
    show_default=True,
)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
)
def demo(scenario: Path, reports_dir: Path) -> None:
    """The main job on nothing but this machine: a Kubernetes scenario on the embedded
    sandbox cluster (default: a rolling deploy under load), any other scenario against the
    reference shop started locally."""
    from slagate.run.demo import run_demo

    _finish(lambda console: run_demo(scenario, reports_dir, console))


def _finish(action: Callable[[Console], RunResult]) -> None:
    console = Console(stderr=True)
    out = Console(width=None if sys.stdout.isatty() else 120)
    try:
        result = action(console)
    except SlagateError as e:
        console.print(Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True)
        sys.exit(EXIT_COULD_NOT_RUN)
    render_verdicts(out, result)
    sys.exit(result.exit_code)


main.add_command(shop)
main.add_command(sandbox_cli)
