"""The CI examples in deploy/ci/ and the in-cluster gate Job work as written.

Every slagate or pytest-gate command they run must exist with the options it passes (as
`slagate SUB --help` and `pytest sla_checks/ --help` list them), every repository path they
name must exist, and each pipeline must fail on the gate's exit code and keep the run folder
whatever the outcome.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from slagate.cli import main as slagate_main

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "deploy" / "ci"
HARNESS = ROOT / "deploy" / "harness"
REPO_PATH = re.compile(r"^(deploy|scenarios|sla_checks|locustfiles)/")
ALIASES = {"--junitxml": "--junit-xml"}  # pytest's --help shows one spelling of the two


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def shell_lines(script: str) -> list[str]:
    """The commands of a shell script: continuation lines joined, comments dropped."""
    joined = script.replace("\\\n", " ")
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def tokens(command: str) -> list[str]:
    """``command`` split as the shell would, with CI expressions as plain words."""
    return shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "VALUE", command))


def github_commands() -> list[str]:
    workflow = load(CI / "github-actions.yml")
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    return [line for s in steps if "run" in s for line in shell_lines(s["run"])]


def buildspec_commands() -> list[str]:
    phases = load(CI / "buildspec.yml")["phases"]
    return [c for phase in phases.values() for c in phase.get("commands", [])]


def container_args(file: str) -> list[list[str]]:
    """The args of every container of the workloads in deploy/harness/FILE."""
    workloads = [d for d in yaml.safe_load_all((HARNESS / file).read_text()) if "spec" in d]
    pods = [w["spec"]["template"]["spec"] for w in workloads if "template" in w["spec"]]
    return [[str(a) for a in c["args"]] for pod in pods for c in pod["containers"]]


def gate_commands() -> list[list[str]]:
    """Every slagate or pytest command the examples run, as argv."""
    commands = [tokens(c) for c in github_commands() + buildspec_commands()]
    for file in ("job.yaml", "locust-master.yaml", "locust-workers.yaml"):
        commands += container_args(file)
    return [argv for argv in commands if argv[0] in ("slagate", "pytest")]


@cache
def pytest_gate_help() -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "sla_checks/", "--help", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def slagate_help(subcommand: str) -> str:
    result = CliRunner().invoke(slagate_main, [subcommand, "--help"])
    assert result.exit_code == 0, f"slagate {subcommand} --help: {result.output}"
    return result.output


def options(argv: list[str]) -> list[str]:
    names = [a.split("=", 1)[0] for a in argv if a.startswith("--")]
    return [ALIASES.get(n, n) for n in names]


def test_the_examples_run_the_gate() -> None:
    argvs = gate_commands()
    assert sum(argv[:2] == ["pytest", "sla_checks/"] for argv in argvs) == 3


@pytest.mark.parametrize("argv", gate_commands(), ids=lambda a: " ".join(a[:3]))
def test_every_option_passed_to_the_gate_exists(argv: list[str]) -> None:
    text = pytest_gate_help() if argv[0] == "pytest" else slagate_help(argv[1])
    missing = [o for o in options(argv) if not re.search(rf"(?<![\w-]){re.escape(o)}\b", text)]
    assert not missing, f"{' '.join(argv)}: not in --help: {missing}"


@pytest.mark.parametrize("argv", gate_commands(), ids=lambda a: " ".join(a[:3]))
def test_every_repository_path_named_exists(argv: list[str]) -> None:
    named = [a.split("=", 1)[-1] for a in argv]
    missing = [p for p in named if REPO_PATH.match(p) and not (ROOT / p).exists()]
    assert not missing


def test_both_pipelines_build_the_images_they_deploy_from_existing_files() -> None:
    for command in github_commands() + buildspec_commands():
        argv = tokens(command)
        named = [a for a in argv if REPO_PATH.match(a)]
        assert all((ROOT / p).exists() for p in named), command


def test_github_workflow_keeps_the_reports_whatever_the_outcome() -> None:
    workflow = load(CI / "github-actions.yml")
    (job,) = workflow["jobs"].values()
    runs = [s.get("run", "") for s in job["steps"]]
    gate = next(i for i, r in enumerate(runs) if "pytest sla_checks/" in r)
    upload = next(
        s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")
    )
    assert job["steps"].index(upload) > gate
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/"
    assert "--reports reports" in runs[gate] and "--junitxml reports/sla.xml" in runs[gate]
    assert "continue-on-error" not in job["steps"][gate]  # the gate's exit code fails the job


def test_buildspec_gates_last_and_keeps_the_reports() -> None:
    spec = load(CI / "buildspec.yml")
    post = spec["phases"]["post_build"]["commands"]
    assert post[-1].startswith("pytest sla_checks/")
    assert "on-failure" not in spec["phases"]["post_build"]  # a failed gate fails the build
    assert spec["reports"]["slagate-sla"] == {
        "files": ["reports/sla.xml"],
        "file-format": "JUNITXML",
    }
    assert spec["artifacts"]["files"] == ["reports/**/*"]
    assert "--junitxml reports/sla.xml" in post[-1]


def test_the_gate_job_never_retries_and_keeps_its_reports_on_a_volume() -> None:
    job = load(HARNESS / "job.yaml")
    pod = job["spec"]["template"]["spec"]
    assert job["spec"]["backoffLimit"] == 0
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "slagate"
    (container,) = pod["containers"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/reports" in mounts
    assert "--reports=/reports" in container["args"]


def test_the_kustomization_lists_every_manifest_of_the_folder() -> None:
    kustomization = load(HARNESS / "kustomization.yaml")
    manifests = {p.name for p in HARNESS.glob("*.yaml")} - {"kustomization.yaml"}
    optional = {"locust-master.yaml", "locust-workers.yaml"}
    assert set(kustomization["resources"]) == manifests - optional


def test_the_distributed_harness_runs_as_many_workers_as_the_master_waits_for() -> None:
    (master,) = container_args("locust-master.yaml")
    (worker,) = container_args("locust-workers.yaml")
    expected = next(a for a in master if a.startswith("--expect-workers="))
    workers = load(HARNESS / "locust-workers.yaml")
    assert workers["spec"]["replicas"] == int(expected.split("=")[1])
    assert "--master" in master and "--master-host=slagate-master" in worker
    (service,) = [d for d in yaml.safe_load_all((HARNESS / "locust-master.yaml").read_text())
                  if d["kind"] == "Service"]  # fmt: skip
    assert service["metadata"]["name"] == "slagate-master"
    assert service["spec"]["ports"][0]["port"] == 5557
