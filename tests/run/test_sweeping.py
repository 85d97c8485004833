"""The sweep's grid and its ``--vary`` parsing (``slagate.run.sweeping``), and its exit
code (``slagate.report.sweep.SweepRecord``); the sweep itself runs in tests/e2e/test_sweep.py."""

from __future__ import annotations

import pytest

from slagate.errors import ConfigError, ExitCode
from slagate.report.sweep import CellRecord, SweepRecord
from slagate.run.sweeping import Axis, expand_grid, parse_axis, typed


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
