"""The docs describe the code as it is, and the repository stands alone."""

from __future__ import annotations

import inspect
import re
import subprocess
from pathlib import Path

import pytest

from slagate import errors
from slagate.timeline import EventKind, RunInfo, RunStatus, Table
from slagate.timeline.runinfo import SandboxProfile

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = (REPO / "docs" / "contracts.md").read_text()


@pytest.mark.parametrize(
    ("what", "names"),
    [
        pytest.param("table", [f"`{t}`" for t in Table], id="tables"),
        pytest.param("run.json field", [f"`{f}`" for f in RunInfo.model_fields], id="run-json"),
        pytest.param("run status", [f"`{s}`" for s in RunStatus], id="run-status"),
        pytest.param("harness event", [f"`{k}`" for k in EventKind], id="events"),
        pytest.param("exit code", [f"`{c.name}`" for c in errors.ExitCode], id="exit-codes"),
        pytest.param(
            "error class",
            [
                name
                for name, value in vars(errors).items()
                if inspect.isclass(value) and issubclass(value, errors.SlagateError)
            ],
            id="errors",
        ),
    ],
)
def test_contracts_md_names_everything_the_code_defines(what: str, names: list[str]) -> None:
    assert [n for n in names if n not in CONTRACTS] == [], f"{what} missing in docs/contracts.md"


def test_contracts_md_lists_every_sandbox_profile_field() -> None:
    listed = re.search(r"`sandbox_profile` \(null[^)]*\): `\{([^}]*)\}`", CONTRACTS)
    assert listed is not None, "docs/contracts.md: the sandbox_profile fields are not listed"
    assert set(listed.group(1).split(", ")) == set(SandboxProfile.model_fields)


def test_no_tracked_file_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = re.compile(r"\.\./shared|\breference/[\w-]+\.md")
    offenders = [
        path
        for path in tracked
        if (REPO / path).is_file()
        and path != "tests/test_docs.py"
        and outside.search((REPO / path).read_text(errors="replace"))
    ]
    assert offenders == []


def test_prometheus_md_shows_every_preset_with_the_query_it_expands_to() -> None:
    from slagate.scenario import PRESETS

    text = (REPO / "docs" / "prometheus.md").read_text()
    missing = [n for n, p in PRESETS.items() if f"### `{n}`" not in text or p.query not in text]
    assert missing == []
