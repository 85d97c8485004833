"""The ``slagate`` command line: the only place that exits.

Exit codes (``slagate.errors.ExitCode``): 0 every SLA passed, 1 an SLA failed (or had no
data), 2 could not run (bad input, preflight, load generator failure), 3 aborted (Ctrl-C,
SIGTERM, the scenario's abort rule). It is also where the parts are put together: the
sandbox is handed to the run as a ``StartCluster``, the terminal as its ``RunView``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from slagate.errors import ConfigError, ExitCode, SlagateError
from slagate.extras import SANDBOX
from slagate.lifecycle import RunResult
from slagate.load.launching import worker_command
from slagate.load.workforce import DEFAULT_WAIT_S, LOCUST_MASTER_PORT, Distribution
from slagate.report import write_report
from slagate.run import ClusterOptions, ProvidedCluster, RunOptions, check_run, run_scenario
from slagate.run.comparing import compare_folders, write_history
from slagate.run.sweeping import Cell, SweepOptions, expand_grid, parse_axis, run_sweep, typed
from slagate.sandbox import (
    DEFAULT_MANIFESTS,
    DataPlane,
    Sandbox,
    check_manifests,
    data_plane_option,
    load_settings,
    sandbox_cli,
    timing_option,
)
from slagate.scenario import SettingsLayer, load_scenario, parse_services
from slagate.shop.cli import shop
from slagate.terminal import (
    TerminalView,
    render_comparison,
    render_error,
    render_history,
    render_sweep,
    render_verdicts,
)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
BASELINE_HELP = (
    "The run relative SLAs (max_ratio_to_baseline, min_ratio_to_baseline) are judged "
    "against: a run folder of the same scenario, or latest-pass (the newest passing run of "
    "it in the same reports folder). Without it they have no data."
)


def _reports_option(help_text: str | None = None) -> Callable[[F], F]:
    """``--reports``: where a command's run folders are (``reports/`` by default)."""
    return click.option(
        "--reports",
        "reports_dir",
        type=click.Path(path_type=Path),
        default=Path("reports"),
        show_default=True,
        help=help_text,
    )


def start_sandbox(
    state_dir: Path,
    manifests: Sequence[Path],
    assumed: SettingsLayer,
    timing: str | None = None,
    data_plane: DataPlane | None = None,
    cell: SettingsLayer | None = None,
) -> ProvidedCluster:
    """The embedded sandbox as the cluster of one run (default: the shop's manifests).
    Settings, the last named winning: the settings file's, the scenario's ``sandbox:``
    block (``assumed``), a sweep's ``cell``, then ``timing`` (``--timing``) and
    ``data_plane`` (``--data-plane``)."""
    paths = manifests or (DEFAULT_MANIFESTS,)
    layers = (assumed,) if cell is None else (assumed, cell)
    return Sandbox.start(state_dir, paths, timing=timing, data_plane=data_plane, layers=layers)


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
@_reports_option("Where run folders go.")
@click.option("--run-dir", type=click.Path(path_type=Path), help="Use this run folder.")
@click.option(
    "--sandbox",
    is_flag=True,
    help="Start the embedded cluster for this run (the shop's manifests by default).",
)
@click.option(
    "--manifests",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Manifests (files or folders) the sandbox applies (repeatable).",
)
@timing_option
@data_plane_option
@click.option("--kubeconfig", type=click.Path(path_type=Path), help="Kubeconfig of a cluster.")
@click.option(
    "--prometheus-url",
    metavar="URL",
    help="Prometheus for the PromQL SLAs (overrides prometheus.url and the sandbox's).",
)
@click.option("--context", help="Context in the kubeconfig.")
@click.option("--namespace", help="Namespace to watch and act in.")
@click.option(
    "--workers",
    type=int,
    default=0,
    help="Run the load on a Locust master and N worker processes on this machine "
    "(default: one load process).",
)
@click.option(
    "--master",
    is_flag=True,
    help="Accept workers from other machines (`slagate worker --master-host THIS_HOST`).",
)
@click.option(
    "--expect-workers",
    type=int,
    default=0,
    help="Workers to wait for before any load (local --workers count toward it).",
)
@click.option(
    "--expect-workers-max-wait",
    type=float,
    default=DEFAULT_WAIT_S,
    show_default=True,
    metavar="SECONDS",
    help="Give up (exit 2, no load sent) when the expected workers are not all connected.",
)
@click.option("--master-bind-host", help="Interface the master listens on (default: all).")
@click.option("--master-port", type=int, help="Port the master listens on (default 5557).")
@click.option("--baseline", metavar="RUN_DIR|latest-pass", help=BASELINE_HELP)
def run(
    scenario: Path,
    host: str | None,
    services: tuple[str, ...],
    reports_dir: Path,
    run_dir: Path | None,
    sandbox: bool,
    manifests: tuple[Path, ...],
    timing: str | None,
    data_plane: DataPlane | None,
    kubeconfig: Path | None,
    prometheus_url: str | None,
    context: str | None,
    namespace: str | None,
    workers: int,
    master: bool,
    expect_workers: int,
    expect_workers_max_wait: float,
    master_bind_host: str | None,
    master_port: int | None,
    baseline: str | None,
) -> None:
    """Run SCENARIO: load, record, judge. Exit 0 pass, 1 fail, 2 could not run, 3 aborted.

    Against a cluster: --kubeconfig/--context/--namespace (or in-cluster config), or
    --sandbox to start the embedded cluster for the run and stop it afterwards.
    More load than one process makes: --workers N, or --master with `slagate worker`."""
    if manifests and not sandbox:
        raise click.BadParameter("only applies with --sandbox", param_hint="--manifests")
    if timing is not None and not sandbox:
        raise click.BadParameter("only applies with --sandbox", param_hint="--timing")
    if data_plane is not None and not sandbox:
        raise click.BadParameter("only applies with --sandbox", param_hint="--data-plane")
    starter = partial(start_sandbox, timing=timing, data_plane=data_plane) if sandbox else None
    cluster = ClusterOptions(kubeconfig, context, namespace, starter, manifests)
    distribution = Distribution(
        workers, expect_workers, master, master_bind_host, master_port, expect_workers_max_wait
    )

    def run_it(view: TerminalView) -> RunResult:
        services_map = parse_services(services, "--service")
        opts = RunOptions(
            scenario,
            host,
            services_map,
            reports_dir,
            run_dir,
            cluster,
            prometheus_url,
            distribution,
            baseline,
        )
        return run_scenario(opts, view)

    _finish(run_it)


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--sandbox",
    is_flag=True,
    help="Run each cell on a fresh embedded sandbox (required: the grid is its settings).",
)
@click.option(
    "--vary",
    "axes",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A sandbox setting and the values to try (repeatable; the grid is every "
    "combination), e.g. data_plane=per-request,kube-proxy or "
    "endpoint_propagation_delay_s=1s,5s,15s.",
)
@click.option(
    "--manifests",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Manifests (files or folders) each sandbox applies (repeatable).",
)
@_reports_option("Where the sweep folder goes.")
def sweep(
    scenario: Path,
    sandbox: bool,
    axes: tuple[str, ...],
    manifests: tuple[Path, ...],
    reports_dir: Path,
) -> None:
    """Run SCENARIO once per cell of a grid of sandbox settings, each on its own fresh
    sandbox, and say per SLA where it holds and where it flips (sweep.json, sweep.html).
    Exit 0 every cell passed, 1 an SLA failed in a cell, 2 a cell could not run (or bad
    input, before any run), 3 aborted (Ctrl-C: no further cell runs)."""
    if not sandbox:
        raise click.UsageError("slagate sweep varies the sandbox's settings: pass --sandbox")
    if not axes:
        raise click.UsageError("nothing to vary: pass --vary KEY=V1,V2,... at least once")
    cells = _or_could_not_run(lambda: _checked_cells(scenario, axes, manifests))

    def cluster_for(cell: Cell) -> ClusterOptions:
        starter = partial(start_sandbox, cell=cell.layer)
        return ClusterOptions(sandbox=starter, manifests=manifests)

    options = SweepOptions(scenario, tuple(cells), cluster_for, reports_dir)
    try:
        result = run_sweep(options, TerminalView(Console(stderr=True)))
    except SlagateError as e:
        render_error(Console(stderr=True), e)
        sys.exit(ExitCode.COULD_NOT_RUN)
    render_sweep(_stdout(), result.sweep_dir, result.record)
    sys.exit(result.exit_code)


def _checked_cells(scenario: Path, texts: Sequence[str], manifests: Sequence[Path]) -> list[Cell]:
    """The grid, every value and every cell checked as its sandbox will read them (the
    settings file, the scenario's ``sandbox:`` block, the cell), and the manifests as each
    cell's sandbox will apply them (an Istio object needs the ``istio`` data plane's
    CRDs): before any run."""
    SANDBOX.require("slagate sweep")  # every cell starts a sandbox: say so before the first
    axes = [parse_axis(text) for text in texts]
    cells = expand_grid(axes)
    ClusterOptions(manifests=tuple(manifests)).check()
    paths = manifests or (DEFAULT_MANIFESTS,)
    for axis in axes:
        for value in axis.values:
            one = SettingsLayer(f"--vary {axis.key}={value}", {axis.key: typed(value)})
            load_settings(paths, layers=(one,))
    assumed = SettingsLayer(f"{scenario}: sandbox", load_scenario(scenario).sandbox)
    for cell in cells:
        try:
            check_manifests(paths, layers=(assumed, cell.layer))
        except ConfigError as error:
            raise ConfigError(f"cell {cell.label}: {error}") from error
    return cells


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--master-host", required=True, help="Host of the master (`slagate run --master`).")
@click.option(
    "--master-port", type=int, default=LOCUST_MASTER_PORT, show_default=True, help="Its port."
)
@click.option(
    "-f",
    "--locustfile",
    default="-",
    show_default=True,
    help="The locustfile; `-` asks the master for its own.",
)
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def worker(
    master_host: str, master_port: int, locustfile: str, locust_args: tuple[str, ...]
) -> None:
    """Run one Locust worker for a `slagate run --master` elsewhere (thin over Locust's
    --worker; further LOCUST_ARGS are Locust's own). It records like the master and
    sends its rows with Locust's reports; the master judges. Ends when the master quits."""
    if not 0 < master_port < 65536:
        raise click.BadParameter(f"{master_port}: expected 1 to 65535", param_hint="--master-port")
    argv = worker_command(master_host, master_port, locustfile, locust_args)
    sys.stdout.flush()
    os.execv(argv[0], argv)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    help="Judge with this scenario's SLAs instead of the recorded ones.",
)
@click.option(
    "--prometheus-url",
    metavar="URL",
    help="Fetch the run's PromQL series again from this Prometheus before judging.",
)
@click.option("--baseline", metavar="RUN_DIR|latest-pass", help=BASELINE_HELP)
def check(
    run_dir: Path, scenario: Path | None, prometheus_url: str | None, baseline: str | None
) -> None:
    """Re-judge a recorded RUN_DIR offline, with the same exit codes as `run`."""
    _finish(lambda view: check_run(run_dir, scenario, prometheus_url, baseline))


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir: Path) -> None:
    """Rebuild RUN_DIR/report.html from the run folder and print its path."""
    click.echo(str(_or_could_not_run(lambda: write_report(run_dir))))


@main.command()
@click.argument("base_run", type=click.Path(path_type=Path))
@click.argument("new_run", type=click.Path(path_type=Path))
def compare(base_run: Path, new_run: Path) -> None:
    """Compare NEW_RUN with BASE_RUN (two run folders of one scenario): latency, errors,
    throughput, rollouts and every SLA side by side, also written into NEW_RUN's report.
    Exit 0, or 2 if a folder is not a run folder, is damaged or ran another scenario."""
    comparison = _or_could_not_run(lambda: compare_folders(base_run, new_run))
    render_comparison(_stdout(), comparison, new_run / "report.html")


@main.command()
@click.option("--scenario", "scenario_name", metavar="NAME", help="Only this scenario's runs.")
@_reports_option()
def history(scenario_name: str | None, reports_dir: Path) -> None:
    """List the runs under --reports with their verdicts and exit codes, and write
    index.html there: every run with links, each SLA's value across runs."""
    index, entries = _or_could_not_run(lambda: write_history(reports_dir, scenario_name))
    render_history(_stdout(), entries, index)


@main.command()
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    default=Path("scenarios/rolling-deploy.yaml"),
    show_default=True,
)
@_reports_option()
def demo(scenario: Path, reports_dir: Path) -> None:
    """The main job on nothing but this machine: a Kubernetes scenario on the embedded
    sandbox cluster (default: a rolling deploy under load), any other scenario against the
    reference shop started locally."""
    from slagate.demo import run_demo

    _finish(lambda view: run_demo(scenario, reports_dir, view, start_sandbox))


def _or_could_not_run(action: Callable[[], T]) -> T:
    """``action()``, or its error on stderr and exit 2 (a command that judges nothing)."""
    try:
        return action()
    except (SlagateError, OSError) as e:
        render_error(Console(stderr=True), e)
        sys.exit(ExitCode.COULD_NOT_RUN)


def _stdout() -> Console:
    return Console(width=None if sys.stdout.isatty() else 120)


def _finish(action: Callable[[TerminalView], RunResult]) -> None:
    console = Console(stderr=True)
    out = _stdout()
    try:
        result = action(TerminalView(console))
    except SlagateError as e:
        render_error(console, e)
        sys.exit(ExitCode.COULD_NOT_RUN)
    render_verdicts(out, result)
    sys.exit(result.exit_code)


main.add_command(shop)
main.add_command(sandbox_cli)
