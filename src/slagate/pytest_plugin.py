"""The pytest gate: one test item per declared SLA.

Loaded by ``sla_checks/conftest.py``. ``--scenario FILE`` runs the scenario once per
session in a child process (``slagate run``; Locust's gevent patching must not reach
this process) and judges its run folder; ``--run-dir DIR`` judges a recorded run.
A run that could not start or was aborted ends the session with exit 2 or 3: a launch
error never looks like an SLA verdict. While the scenario runs, what ``slagate run``
prints (its progress and the live SLA table) goes to pytest's live log, logger
``slagate.gate``; the gate turns the live log on at INFO unless ``--log-cli-level`` or
``log_cli`` say otherwise.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slagate.errors import ConfigError, ExitCode, SlagateError
from slagate.report.summary import read_summary
from slagate.run import check_run
from slagate.scenario import Scenario, load_scenario
from slagate.sla.formatting import printable
from slagate.sla.live import STOPPED_THE_RUN
from slagate.sla.verdict import Status, Verdict
from slagate.sla.workers import WORKERS_ID
from slagate.timeline import new_run_dir, read_run_info

EVIDENCE_SHOWN = 10
LIVE_LOG = logging.getLogger("slagate.gate")


def pytest_configure(config: pytest.Config) -> None:
    """Show the run's live output (progress, live SLA table) in pytest's live log."""
    if config.getoption("log_cli_level", None) is None and not config.getini("log_cli"):
        config.option.log_cli_level = "INFO"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("slagate", "slagate SLA gate")
    group.addoption("--scenario", help="Run this scenario once and judge its SLAs.")
    group.addoption("--run-dir", help="Judge this recorded run folder instead of running.")
    # Not --host: Locust's own pytest plugin (auto-loaded) already defines it.
    group.addoption("--target-host", dest="slagate_host", help="Target base URL override.")
    group.addoption(
        "--target-service",
        dest="slagate_services",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="Named service URL override (repeatable).",
    )
    group.addoption(
        "--sandbox",
        dest="slagate_sandbox",
        action="store_true",
        help="Run the scenario on the embedded sandbox cluster.",
    )
    group.addoption(
        "--timing",
        dest="slagate_timing",
        help="With --sandbox: the sandbox's timings, compressed or real-time "
        "(slagate run --timing).",
    )
    group.addoption(
        "--data-plane",
        dest="slagate_data_plane",
        help="With --sandbox: the service proxy's profile: per-request, kube-proxy, aws-alb "
        "or aws-nlb (slagate run --data-plane).",
    )
    group.addoption("--kubeconfig", dest="slagate_kubeconfig", help="Kubeconfig of a cluster.")
    group.addoption("--kube-context", dest="slagate_context", help="Context in the kubeconfig.")
    group.addoption("--kube-namespace", dest="slagate_namespace", help="Namespace to use.")
    group.addoption(
        "--prometheus-url",
        dest="slagate_prometheus_url",
        help="Prometheus for the PromQL SLAs (with --run-dir: fetch the series again).",
    )
    group.addoption(
        "--workers",
        dest="slagate_workers",
        type=int,
        default=0,
        help="Run the load on a Locust master and N local worker processes; adds a "
        "'workers' item (every worker reported to the end).",
    )
    group.addoption(
        "--baseline",
        dest="slagate_baseline",
        metavar="RUN_DIR|latest-pass",
        help="The run relative SLAs (max_ratio_to_baseline, ...) are judged against.",
    )
    group.addoption(
        "--reports",
        dest="slagate_reports",
        default="reports",
        help="Where run folders go (default: reports).",
    )


_SCENARIO = pytest.StashKey[Scenario]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Read the scenario before collection: a mistake in it (or a missing option) then
    ends the session with exit 2 and the message alone; found while collecting, it would
    be shown inside pytest's and pluggy's frames, as if slagate had crashed."""
    _declared_scenario(session.config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sla_verdict" not in metafunc.fixturenames:
        return
    ids = [s.sla_id for s in _declared_scenario(metafunc.config).slas]
    if metafunc.config.getoption("slagate_workers"):
        ids.append(WORKERS_ID)
    metafunc.parametrize("sla_id", ids, ids=ids)


def _declared_scenario(config: pytest.Config) -> Scenario:
    """The scenario whose SLAs become the items (read once); a mistake ends the session
    with exit 2."""
    if _SCENARIO not in config.stash:
        config.stash[_SCENARIO] = _read_declared_scenario(config)
    return config.stash[_SCENARIO]


def _read_declared_scenario(config: pytest.Config) -> Scenario:
    scenario_opt, run_dir_opt = config.getoption("scenario"), config.getoption("run_dir")
    try:
        if scenario_opt:
            return load_scenario(scenario_opt)
        if run_dir_opt:
            return _recorded_scenario(Path(run_dir_opt))
    except SlagateError as e:
        pytest.exit(f"slagate: {printable(str(e))}", ExitCode.COULD_NOT_RUN)
    pytest.exit(
        "slagate: pass --scenario FILE (run it) or --run-dir DIR (judge it)",
        ExitCode.COULD_NOT_RUN,
    )


def _recorded_scenario(run_dir: Path) -> Scenario:
    scenario = read_run_info(run_dir).scenario
    if scenario is None:
        raise ConfigError(f"{run_dir} records no scenario; pass --scenario FILE")
    return scenario


@pytest.fixture(scope="session")
def slagate_verdicts(pytestconfig: pytest.Config) -> dict[str, Verdict]:
    """Run (or re-judge) once per session; verdicts by SLA id."""
    run_dir_opt = pytestconfig.getoption("run_dir")
    if run_dir_opt and not pytestconfig.getoption("scenario"):
        prometheus_url = pytestconfig.getoption("slagate_prometheus_url")
        baseline = pytestconfig.getoption("slagate_baseline")
        return _judge_recorded(Path(run_dir_opt), prometheus_url, baseline)
    return _run_child(pytestconfig)


def _judge_recorded(
    run_dir: Path, prometheus_url: str | None, baseline: str | None
) -> dict[str, Verdict]:
    try:
        result = check_run(run_dir, prometheus_url=prometheus_url, baseline=baseline)
    except SlagateError as e:
        pytest.exit(
            f"slagate: could not judge {run_dir}: {printable(str(e))}", ExitCode.COULD_NOT_RUN
        )
    if result.exit_code is ExitCode.ABORTED:
        pytest.exit(f"slagate: {run_dir} was aborted ({printable(result.note)})", ExitCode.ABORTED)
    return {v.id: _marked(v, result.stopped_by) for v in result.verdicts}


def _run_child(config: pytest.Config) -> dict[str, Verdict]:
    run_dir = new_run_dir(Path(config.getoption("slagate_reports")), "pytest", _now())
    argv = [sys.executable, "-m", "slagate", "run", config.getoption("scenario")]
    argv += ["--run-dir", str(run_dir)]
    if config.getoption("slagate_host"):
        argv += ["--host", config.getoption("slagate_host")]
    for svc in config.getoption("slagate_services"):
        argv += ["--service", svc]
    if config.getoption("slagate_sandbox"):
        argv.append("--sandbox")
    if config.getoption("slagate_workers"):
        argv += ["--workers", str(config.getoption("slagate_workers"))]
    for option, flag in (
        ("slagate_timing", "--timing"),
        ("slagate_data_plane", "--data-plane"),
        ("slagate_kubeconfig", "--kubeconfig"),
        ("slagate_context", "--context"),
        ("slagate_namespace", "--namespace"),
        ("slagate_prometheus_url", "--prometheus-url"),
        ("slagate_baseline", "--baseline"),
    ):
        if config.getoption(option):
            argv += [flag, config.getoption(option)]
    code, stdout, stderr = _follow_run(argv, run_dir)
    (run_dir / "slagate-run.log").write_text(stdout + stderr)
    if code in (ExitCode.COULD_NOT_RUN, ExitCode.ABORTED):
        what = "could not run" if code == ExitCode.COULD_NOT_RUN else "was aborted"
        pytest.exit(f"slagate: the scenario {what}:\n{_tail(stderr)}", code)
    summary = read_summary(run_dir)
    return {v.id: _marked(v, summary.stopped_by) for v in summary}


def _marked(verdict: Verdict, stopped_by: str | None) -> Verdict:
    """The verdict of the SLA whose ``abort_on_fail`` stopped the run says so first."""
    if verdict.id != stopped_by:
        return verdict
    return replace(verdict, message=f"{STOPPED_THE_RUN} (abort_on_fail): {verdict.message}")


def _follow_run(argv: list[str], run_dir: Path) -> tuple[int, str, str]:
    """Run ``slagate run``; each line of its progress (stderr: the steps, the progress
    line, the live SLA table) goes to the live log as it comes. Returns the exit code,
    stdout (the verdict table) and stderr."""
    verdicts = run_dir / "slagate-run.stdout"
    with verdicts.open("w+") as stdout:
        proc = subprocess.Popen(
            argv, stdout=stdout, stderr=subprocess.PIPE, text=True, env=_child_env()
        )
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            LIVE_LOG.info("%s", printable(line.rstrip("\n")))
        proc.stderr.close()
        code = proc.wait()
        stdout.seek(0)
        out = stdout.read()
    verdicts.unlink()
    return code, out, "".join(lines)


def _child_env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "160"}


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _now() -> float:
    return time.time()


@pytest.fixture
def sla_verdict(sla_id: str, slagate_verdicts: dict[str, Verdict]) -> Verdict:
    if sla_id not in slagate_verdicts:
        pytest.fail(f"SLA {sla_id!r} was declared but not judged in this run", pytrace=False)
    return slagate_verdicts[sla_id]


def assert_sla(verdict: Verdict) -> None:
    """Fail the test with measured vs threshold, the window and the evidence."""
    if verdict.status is Status.PASS:
        return
    pytest.fail(explain(verdict), pytrace=False)


def explain(verdict: Verdict) -> str:
    """What a failed item prints; printable, since messages and evidence quote the target."""
    lines = [
        f"{verdict.id}: {verdict.status.value.upper()}: {verdict.message}",
        f"  measured:  {verdict.measured_text}",
        f"  threshold: {verdict.threshold_text}",
        f"  window:    {verdict.window}",
    ]
    if verdict.evidence:
        lines.append("  evidence:")
        lines += [f"    {_stamp(e.t_ms)}  {e.text}" for e in verdict.evidence[:EVIDENCE_SHOWN]]
        if len(verdict.evidence) > EVIDENCE_SHOWN:
            lines.append(f"    ... {len(verdict.evidence) - EVIDENCE_SHOWN} more in summary.json")
    return printable("\n".join(lines))


def _stamp(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
