"""The sweep's grid and its ``--vary`` parsing (``slagate.run.sweeping``), its exit code
(``slagate.report.sweep.SweepRecord``) and its loop over cells with the runs faked (what
an aborted cell, an interrupt and a cell that cannot run leave); the sweep with real runs
is tests/e2e/test_sweep.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slagate.errors import ConfigError, ExitCode, PreflightError
from slagate.lifecycle import RunResult
from slagate.report.sweep import CellRecord, SweepRecord
from slagate.run import ClusterOptions, RunOptions, RunView, SilentView
from slagate.run.sweeping import Axis, SweepOptions, expand_grid, parse_axis, run_sweep, typed
from slagate.sla.verdict import Status, Verdict
from slagate.timeline import RunStatus


def test_parse_axis() -> None:
    assert parse_axis("endpoint_propagation_delay_s=1s, 5s,15") == Axis(
        "endpoint_propagation_delay_s", ("1s", "5s", "15")
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("data_plane", "expected KEY=V1,V2", id="no-equals"),
        pytest.param("=a,b", "expected KEY=V1,V2", id="no-key"),
        pytest.param("data_plane=a,,b", "expected KEY=V1,V2", id="empty-value"),
        pytest.param("data_plane=a,a", "listed twice", id="duplicate-value"),
    ],
)
def test_parse_axis_refuses(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        parse_axis(text)
    assert repr(text) in str(caught.value)


def test_grid_is_every_combination_first_axis_slowest() -> None:
    cells = expand_grid([Axis("data_plane", ("per-request", "kube-proxy")), Axis("d", ("1", "5"))])
    assert [c.settings for c in cells] == [
        (("data_plane", "per-request"), ("d", "1")),
        (("data_plane", "per-request"), ("d", "5")),
        (("data_plane", "kube-proxy"), ("d", "1")),
        (("data_plane", "kube-proxy"), ("d", "5")),
    ]
    assert [c.index for c in cells] == [1, 2, 3, 4]
    assert cells[2].folder == "cell-03-data_plane-kube-proxy-d-1"
    assert cells[2].label == "data_plane=kube-proxy, d=1"


def test_grid_refuses_a_key_twice() -> None:
    with pytest.raises(ConfigError, match="d: given more than once"):
        expand_grid([Axis("d", ("1",)), Axis("d", ("5",))])


def test_folder_keeps_only_safe_characters() -> None:
    (cell,) = expand_grid([Axis("timing", ("../../x y",))])
    assert cell.folder == "cell-01-timing-.._.._x_y"
    assert "/" not in cell.folder


def test_cell_layer_types_numbers_and_keeps_names_and_durations() -> None:
    (cell,) = expand_grid([Axis("a", ("5",)), Axis("b", ("5s",)), Axis("c", ("kube-proxy",))])
    assert cell.layer.values == {"a": 5.0, "b": "5s", "c": "kube-proxy"}
    assert cell.layer.source == "--vary a=5, b=5s, c=kube-proxy"
    assert typed("0.5") == 0.5


def record(*codes: ExitCode, planned: int | None = None) -> SweepRecord:
    cells = tuple(CellRecord((("d", str(i)),), f"cell-{i}", code) for i, code in enumerate(codes))
    return SweepRecord("s", "s.yaml", cells, len(codes) if planned is None else planned)


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        pytest.param(record(ExitCode.PASSED, ExitCode.PASSED), ExitCode.PASSED, id="all-pass"),
        pytest.param(record(ExitCode.PASSED, ExitCode.FAILED), ExitCode.FAILED, id="one-fails"),
        pytest.param(
            record(ExitCode.FAILED, ExitCode.COULD_NOT_RUN), ExitCode.COULD_NOT_RUN, id="cannot-run"
        ),
        pytest.param(record(ExitCode.FAILED, ExitCode.ABORTED), ExitCode.ABORTED, id="aborted"),
        pytest.param(record(ExitCode.PASSED, planned=3), ExitCode.ABORTED, id="cells-left"),
    ],
)
def test_sweep_exit_code(sweep: SweepRecord, expected: ExitCode) -> None:
    assert sweep.exit_code is expected


class FakeRuns:
    """Stands in for ``run_scenario`` (the real one runs in tests/e2e/test_sweep.py): each
    call takes the next outcome, an exit code, or an exception to raise."""

    def __init__(self, *outcomes: ExitCode | BaseException) -> None:
        self.outcomes = list(outcomes)
        self.run_dirs: list[Path] = []

    def __call__(self, opts: RunOptions, view: RunView) -> RunResult:
        assert opts.run_dir is not None
        self.run_dirs.append(opts.run_dir)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        passed = Verdict("a", "availability", Status.PASS, 100.0, 99.0, "load", "ok")
        return RunResult(opts.run_dir, outcome, RunStatus.COMPLETED, (passed,))


def sweep_of(tmp_path: Path, runs: FakeRuns, values: tuple[str, ...]) -> dict[str, Any]:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nload: {shape: constant, users: 1, duration: 1}\n")
    cells = tuple(expand_grid([Axis("d", values)]))
    opts = SweepOptions(scenario, cells, lambda cell: ClusterOptions(), tmp_path / "reports")
    result = run_sweep(opts, SilentView(), run=runs)
    assert result.sweep_dir.parent == tmp_path / "reports"
    assert [p.parent for p in runs.run_dirs] == [result.sweep_dir] * len(runs.run_dirs)
    data: dict[str, Any] = json.loads((result.sweep_dir / "sweep.json").read_text())
    assert data["exit_code"] == int(result.exit_code)
    assert (result.sweep_dir / "sweep.html").is_file()
    return data


def test_an_aborted_cell_ends_the_sweep_and_keeps_what_ran(tmp_path: Path) -> None:
    runs = FakeRuns(ExitCode.PASSED, ExitCode.ABORTED, ExitCode.PASSED)
    data = sweep_of(tmp_path, runs, ("1", "2", "3"))
    assert (data["exit_code"], data["cells_run"], data["cells_planned"]) == (3, 2, 3)
    assert len(runs.run_dirs) == 2


def test_ctrl_c_outside_the_runs_signal_handling_aborts_that_cell(tmp_path: Path) -> None:
    data = sweep_of(tmp_path, FakeRuns(ExitCode.PASSED, KeyboardInterrupt()), ("1", "2", "3"))
    assert [c["exit_code"] for c in data["cells"]] == [0, 3]
    assert data["cells"][1]["note"] == "interrupted"


def test_a_cell_that_cannot_run_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    runs = FakeRuns(PreflightError("no Service order"), ExitCode.FAILED)
    data = sweep_of(tmp_path, runs, ("1", "2"))
    assert [c["exit_code"] for c in data["cells"]] == [2, 1]
    assert data["cells"][0]["note"] == "no Service order"
    assert data["exit_code"] == 2
    assert data["slas"] == [
        {
            "id": "a",
            "flips": False,
            "holds": [2],
            "fails": [],
            "unjudged": [1],
            "sentence": "a holds at d=2; has no verdict at d=1",
        }
    ]


def test_an_aborted_cells_verdicts_prove_nothing_either_way() -> None:
    failed = Verdict("a", "availability", Status.FAIL, 1.0, 99.0, "load", "stopped early")
    passed = Verdict("a", "availability", Status.PASS, 100.0, 99.0, "load", "ok")
    cells = (
        CellRecord((("d", "1"),), "cell-01", ExitCode.PASSED, (passed,)),
        CellRecord((("d", "2"),), "cell-02", ExitCode.ABORTED, (failed,), "stopped by SIGINT"),
    )
    (transfer,) = SweepRecord("s", "s.yaml", cells, 2).transfers
    assert transfer.sentence == "a holds at d=1; has no verdict at d=2"
