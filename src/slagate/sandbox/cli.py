"""``slagate sandbox``: start, inspect and stop the embedded local cluster.

    slagate sandbox up [--manifests PATH]... [--timing NAME] [--state-dir DIR] [--name NAME]
    slagate sandbox status [--state-dir DIR] [--name NAME]
    slagate sandbox down [--state-dir DIR] [--name NAME]
    slagate sandbox kubeconfig --service-account NS/NAME [--output FILE] [--state-dir DIR]

The state directory defaults to ``.slagate/sandbox/NAME`` (NAME ``default``), so
``--name`` alone runs a second sandbox beside the first. ``serve`` (the daemon) and
``proxy`` (the service proxy) are the long-running processes ``up`` starts; they are
hidden commands of the same group, run as ``python -m slagate.sandbox serve|proxy``.
Errors are click errors, never a traceback: exit 2 for bad input (usage, an option's
value, an invalid manifest or settings file), 1 for everything else.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from slagate.errors import ConfigError, ExitCode, SlagateError
from slagate.extras import SANDBOX, exit_without
from slagate.numbers import Seconds
from slagate.sandbox.applying import DEFAULT_MANIFESTS
from slagate.sandbox.settings import TIMINGS, DataPlane, check_timing

if TYPE_CHECKING:
    from slagate.sandbox.daemon import DaemonState

T = TypeVar("T")
_ENDPOINTS_MARGIN_S = 0.2
"""After the last pod is ready: time for its EndpointSlice write, beyond the proxy's delay."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""A sandbox's name: a folder under .slagate/sandbox, printable on any terminal."""
_LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


class BadInput(click.ClickException):
    """A ``ConfigError`` (an invalid manifest, a settings file): exit 2, like a usage error
    and like every bad input of ``slagate run``."""

    exit_code = ExitCode.COULD_NOT_RUN


_state_dir_option = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Where the sandbox keeps its state.  [default: .slagate/sandbox/NAME]",
)  # fmt: skip
_name_option = click.option(
    "--name", default="default", show_default=True, help="The sandbox's name."
)


class TimingName(click.ParamType[str]):
    """A named timing (``TIMINGS``); an unknown one is a usage error (exit 2) naming the
    valid ones, worded as ``DataPlaneName``'s."""

    name = "timing"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        try:
            check_timing(str(value), "--timing")
        except ConfigError as error:
            self.fail(str(error).removeprefix("--timing: "), param, ctx)
        return str(value)


timing_option = click.option(
    "--timing", type=TimingName(), default=None, metavar="|".join(sorted(TIMINGS)),
    help="The sandbox's controller and kubelet timings: compressed (fast; the shop "
    "overlay's) or real-time (upstream's: 15 s HPA sync, 300 s scale-down "
    "stabilization).  [default: the settings file's, else real-time]",
)  # fmt: skip
"""``--timing NAME``: replaces the named timing of ``sandbox-settings.yaml``; an unknown
name is a usage error (exit 2) naming the value and the valid names."""


class DataPlaneName(click.ParamType[DataPlane]):
    """A ``DataPlane`` by name; an unknown one is a usage error (exit 2) naming the valid."""

    name = "data plane"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> DataPlane:
        if isinstance(value, DataPlane):
            return value
        try:
            return DataPlane.named(value, "--data-plane")
        except ConfigError as error:
            self.fail(str(error).removeprefix("--data-plane: "), param, ctx)


DATA_PLANE_HELP = (
    f"The service proxy's profile: {', '.join(p.value for p in DataPlane)} "
    "(docs/sandbox.md).  [default: the settings file's data_plane, else per-request]"
)
data_plane_option = click.option(
    "--data-plane", "data_plane", type=DataPlaneName(), default=None, help=DATA_PLANE_HELP
)
"""``--data-plane NAME``: replaces the ``data_plane`` of ``sandbox-settings.yaml``; an
unknown name is a usage error (exit 2) naming the value and the valid names."""


@click.group(name="sandbox", context_settings={"help_option_names": ["-h", "--help"]})
def sandbox() -> None:
    """The embedded local cluster: API server, controllers, kubelet, service proxy."""
    exit_without(SANDBOX, "the sandbox")


@sandbox.command()
@click.option(
    "--manifests", "manifests", multiple=True, type=click.Path(exists=True, path_type=Path),
    help="Manifest file or directory (repeatable).  [default: the shop, packaged]",
)  # fmt: skip
@timing_option
@_state_dir_option
@_name_option
@click.option(
    "--timeout", "timeout_s", type=Seconds(), default=120.0, show_default=True, help="Seconds."
)
@click.option(
    "--wait/--no-wait", default=True, show_default=True,
    help="Wait until every Deployment is available and routed by the proxy.",
)  # fmt: skip
@data_plane_option
def up(
    manifests: tuple[Path, ...],
    timing: str | None,
    state_dir: Path | None,
    name: str,
    timeout_s: float,
    wait: bool,
    data_plane: DataPlane | None,
) -> None:
    """Start a sandbox in the background, or find it running.

    Prints the kubeconfig, the Prometheus URL and each Service's URL (through the service
    proxy)."""
    from slagate.sandbox.applying import check_manifests
    from slagate.sandbox.daemon import start_daemon

    directory = _state_dir(state_dir, name)
    paths = list(manifests) or [DEFAULT_MANIFESTS]
    deadline = time.monotonic() + timeout_s
    _guarded(lambda: check_manifests(paths, timing, data_plane))
    state, started = _guarded(
        lambda: start_daemon(directory, paths, name, timeout_s, timing, data_plane)
    )
    if wait:
        from slagate.sandbox.inspecting import wait_available

        try:
            wait_available(Path(state.kubeconfig), deadline - time.monotonic(), timeout_s)
        except SlagateError as error:
            options = f"--state-dir {directory}"
            raise click.ClickException(
                f"{error}\npod logs: {Path(state.state_dir) / 'pods'}/<namespace>_<pod>.log\n"
                f"the sandbox keeps running: slagate sandbox status {options}; "
                f"stop it with: slagate sandbox down {options}"
            ) from error
        time.sleep(state.propagation_delay_s + _ENDPOINTS_MARGIN_S)  # the proxy routes by now
    verb = "is up" if started else "is already running"
    click.echo(f'sandbox "{name}" {verb} (pid {state.pid}, API {state.api_url})')
    click.echo(f"sandbox {state.described_profile}")
    click.echo(f"kubeconfig: {state.kubeconfig}")
    click.echo(f"  export KUBECONFIG={state.kubeconfig}")
    _echo_prometheus(state.prometheus_url)
    _echo_services(state.services)


@sandbox.command()
@_state_dir_option
@_name_option
def status(state_dir: Path | None, name: str) -> None:
    """Show deployments, HPAs, pods, Service URLs and the Prometheus URL.

    The tables read like `kubectl get`; the data comes through the sandbox's API server."""
    from slagate.sandbox.inspecting import cluster_tables

    state = _running(state_dir, name)
    click.echo(f'sandbox "{name}": running (pid {state.pid}), API {state.api_url}, '
               f"pod network {state.pod_network}")  # fmt: skip
    click.echo(f"sandbox {state.described_profile}")
    click.echo(f"kubeconfig: {state.kubeconfig}")
    _echo_prometheus(state.prometheus_url)
    for table in _guarded(lambda: cluster_tables(Path(state.kubeconfig))):
        click.echo("")
        click.echo(table)
    click.echo("")
    _echo_services(state.services)


@sandbox.command()
@_state_dir_option
@_name_option
@click.option(
    "--timeout", "timeout_s", type=Seconds(), default=90.0, show_default=True,
    help="Seconds to wait for a graceful stop before SIGKILL.",
)  # fmt: skip
def down(state_dir: Path | None, name: str, timeout_s: float) -> None:
    """Stop a sandbox and every process it started.

    Pods stop gracefully (preStop, SIGTERM, grace period), then the proxy and the API
    server; SIGKILL after --timeout. Stopping a sandbox that is not running is no error."""
    from slagate.sandbox.daemon import stop_daemon

    directory = _state_dir(state_dir, name)
    stopped = _guarded(lambda: stop_daemon(directory, timeout_s))
    if stopped.pid is None:
        click.echo(f'sandbox "{name}" is not running')
    elif stopped.killed:
        click.echo(f'sandbox "{name}" (pid {stopped.pid}) did not stop in {timeout_s:g} s: killed')
    else:
        click.echo(f'sandbox "{name}" stopped (pid {stopped.pid})')


@sandbox.command()
@click.argument("seconds", type=Seconds())
@_state_dir_option
@_name_option
def slow(seconds: float, state_dir: Path | None, name: str) -> None:
    """Make the sandbox's API server answer late for SECONDS (fault injection).

    Every request (and every watch event) waits until SECONDS have passed; nothing is cut.
    What a run records meanwhile: an `api_slow` event. 0 lifts a slowdown under way."""
    from slagate.sandbox.inspecting import ClusterReader

    state = _running(state_dir, name)
    _guarded(lambda: ClusterReader(Path(state.kubeconfig)).slow_down(seconds))
    click.echo(f'sandbox "{name}": the API server answers late for {seconds:g} s')


@sandbox.command(hidden=True)
@click.option("--state-dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--manifests", "manifests", multiple=True, type=click.Path(path_type=Path))
@_name_option
@timing_option
@data_plane_option
def serve(
    state_dir: Path,
    manifests: tuple[Path, ...],
    name: str,
    timing: str | None,
    data_plane: DataPlane | None,
) -> None:
    """Run a sandbox in the foreground until SIGTERM (what `up` starts)."""
    from slagate.sandbox.daemon import serve as serve_sandbox

    _configure_logging()
    paths = list(manifests) or [DEFAULT_MANIFESTS]
    _guarded(lambda: serve_sandbox(state_dir, paths, name, timing=timing, data_plane=data_plane))


@sandbox.command(hidden=True)
@click.option("--kubeconfig", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ports-file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--namespace", default=None, help="Only this namespace (default: all).")
@click.option(
    "--delay",
    "delay_s",
    default=1.0,
    show_default=True,
    type=Seconds(),
    help="Endpoint propagation delay in seconds.",
)
@click.option(
    "--jitter", "jitter_s", default=0.0, show_default=True, type=Seconds(),
    help="Up to this many more seconds per endpoint change (kube-proxy data plane).",
)  # fmt: skip
@click.option(
    "--balancing", default="least-request", show_default=True,
    type=click.Choice(["least-request", "round-robin"]),
)  # fmt: skip
@click.option(
    "--target-group", "target_group", default=None, metavar="KEY=VALUE,...",
    help="The target groups' timings (aws-alb and aws-nlb data planes).",
)  # fmt: skip
@data_plane_option
def proxy(
    kubeconfig: Path,
    ports_file: Path,
    namespace: str | None,
    delay_s: float,
    jitter_s: float,
    balancing: str,
    target_group: str | None,
    data_plane: DataPlane | None,
) -> None:
    """Run the service proxy until SIGTERM (what the sandbox daemon starts)."""
    from slagate.sandbox.proxy.running import ProxyOptions, run_proxy
    from slagate.sandbox.proxy.upstreams import Balancing
    from slagate.sandbox.targetgroups import TargetGroupTiming

    _configure_logging()
    plane = data_plane or DataPlane.PER_REQUEST

    def serve() -> None:
        timing = TargetGroupTiming.from_argument(target_group) if target_group else None
        balanced = Balancing(balancing)
        run_proxy(
            ProxyOptions(
                kubeconfig, ports_file, delay_s, namespace, balanced, plane, jitter_s, timing
            )
        )

    _guarded(serve)


@sandbox.command()
@_state_dir_option
@_name_option
@click.option(
    "--service-account",
    "account",
    required=True,
    metavar="NS/NAME",
    help="The ServiceAccount to act as; it must exist in the sandbox.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write it.  [default: STATE_DIR/NS-NAME.kubeconfig]",
)
@click.option(
    "--kubeconfig",
    "admin",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The admin kubeconfig of the sandbox.  [default: the running sandbox's]",
)
def kubeconfig(
    state_dir: Path | None, name: str, account: str, output: Path | None, admin: Path | None
) -> None:
    """Write a kubeconfig that acts as a ServiceAccount (mode 0600) and print its path.

    Requests made with it are authorized by the Roles and ClusterRoles its RoleBindings
    and ClusterRoleBindings grant, as on a real cluster: `slagate run --kubeconfig FILE`
    then shows what the harness may not do there."""
    from slagate.sandbox.daemon import running_state
    from slagate.sandbox.inspecting import service_account_kubeconfig

    directory = _state_dir(state_dir, name)
    if admin is None:
        state = running_state(directory)
        if state is None:
            raise click.ClickException(
                f'sandbox "{name}" is not running (state directory {directory}); '
                "start it with: slagate sandbox up, or pass --kubeconfig"
            )
        admin = Path(state.kubeconfig)
    target = output or directory / f"{account.replace('/', '-')}.kubeconfig"
    written = _guarded(lambda: service_account_kubeconfig(admin, account, target))
    click.echo(str(written))


def _state_dir(state_dir: Path | None, name: str) -> Path:
    if state_dir is not None:
        return state_dir
    if not _NAME.fullmatch(name):
        raise click.BadParameter(f"{name!r}: use letters, digits and dashes", param_hint="--name")
    return Path(".slagate/sandbox") / name


def _running(state_dir: Path | None, name: str) -> DaemonState:
    """The state of the running sandbox; a click error if it is not running."""
    from slagate.sandbox.daemon import running_state

    directory = _state_dir(state_dir, name)
    state = running_state(directory)
    if state is None:
        raise click.ClickException(
            f'sandbox "{name}" is not running (state directory {directory}); '
            "start it with: slagate sandbox up"
        )
    return state


def _echo_prometheus(url: str | None) -> None:
    if url is not None:
        click.echo(f"prometheus: {url}")
        return
    from slagate.sandbox.monitoring import missing_message

    click.echo(f"prometheus: not running ({missing_message()})")


def _echo_services(services: dict[str, str]) -> None:
    if not services:
        click.echo("services: none proxied")
        return
    click.echo("services:")
    width = max(len(key) for key in services)
    for key, url in services.items():
        click.echo(f"  {key:<{width}}  {url}")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT, stream=sys.stderr)


def _guarded(action: Callable[[], T]) -> T:
    """Run ``action``; slagate's own errors become a click error (no traceback): exit 2
    for bad input, 1 otherwise."""
    try:
        return action()
    except ConfigError as error:
        raise BadInput(str(error)) from error
    except SlagateError as error:
        raise click.ClickException(str(error)) from error
