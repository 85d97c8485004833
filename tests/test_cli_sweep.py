"""``slagate sweep``'s bad input: refused with exit 2, naming the file or option, the field,
the value and what is valid, before any cell runs (a guard makes running one a failure).
Also the settings a ``--sandbox`` run gets, the last named winning: the settings file, the
scenario's ``sandbox:`` block, a sweep's cell, ``--timing``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slagate import cli
from slagate.errors import ConfigError
from slagate.sandbox import DEFAULT_MANIFESTS, load_settings
from slagate.scenario import SettingsLayer

SCENARIO = """\
name: s
target: {kubernetes: {service: order}}
load: {shape: constant, users: 1, duration: 1}
slas: [{kind: availability, min_percent: 99}]
"""


def never(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"a cell ran: {args!r:.200}")


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli, "run_sweep", never)
    monkeypatch.setattr(cli, "start_sandbox", never)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    return path


def sweep(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["sweep", *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("vary", "said"),
    [
        pytest.param(
            "data_plane=kube-proxy,quic",
            "--vary data_plane=quic: data_plane: unknown data plane 'quic'; valid: per-request, "
            "kube-proxy",
            id="unknown-data-plane",
        ),
        pytest.param(
            "delay=1s",
            "--vary delay=1s: unknown sandbox setting(s) delay; known: ",
            id="unknown-key",
        ),
        pytest.param(
            "timing=fast",
            "--vary timing=fast: timing: unknown timing 'fast'; valid: compressed, real-time",
            id="unknown-timing",
        ),
        pytest.param(
            "endpoint_propagation_delay_s=1s,soon",
            "--vary endpoint_propagation_delay_s=soon: endpoint_propagation_delay_s: expected a "
            "duration",
            id="not-a-duration",
        ),
        pytest.param("data_plane", "--vary 'data_plane': expected KEY=V1,V2", id="no-values"),
    ],
)
def test_bad_vary_exits_2_naming_it_and_the_valid_ones(
    scenario: Path, vary: str, said: str
) -> None:
    code, output = sweep(str(scenario), "--sandbox", "--vary", vary)
    assert code == 2
    assert said in " ".join(output.split())


def test_a_bad_sandbox_block_names_file_field_value_and_valid_ones(scenario: Path) -> None:
    scenario.write_text(SCENARIO + "sandbox: {data_plane: envoy}\n")
    code, output = sweep(str(scenario), "--sandbox", "--vary", "timing=compressed")
    assert code == 2
    assert f"{scenario}: sandbox: data_plane: unknown data plane 'envoy'; valid: " in output


def test_a_sandbox_block_of_the_wrong_type_is_a_scenario_error(scenario: Path) -> None:
    scenario.write_text(SCENARIO + "sandbox: {endpoint_propagation_delay_s: [1]}\n")
    code, output = sweep(str(scenario), "--sandbox", "--vary", "timing=compressed")
    assert code == 2
    assert "sandbox.endpoint_propagation_delay_s: Input should be a valid" in output


def test_sweep_needs_the_sandbox_and_an_axis(scenario: Path) -> None:
    assert sweep(str(scenario), "--vary", "timing=compressed")[0] == 2
    assert sweep(str(scenario), "--sandbox")[0] == 2


def test_layers_over_the_file_last_named_wins() -> None:
    scenario = SettingsLayer(
        "s.yaml: sandbox",
        {"data_plane": "kube-proxy", "timing": "real-time", "endpoint_propagation_delay_s": "5s"},
    )
    cell = SettingsLayer("--vary", {"endpoint_propagation_delay_s": 15.0})
    settings = load_settings([DEFAULT_MANIFESTS], None, (scenario, cell))
    assert settings.data_plane.value == "kube-proxy"  # the scenario's, over the file's
    assert settings.endpoint_propagation_delay_s == 15.0  # the cell's, over the scenario's
    assert settings.timing == "real-time"  # the scenario's, over the overlay's compressed
    assert load_settings([DEFAULT_MANIFESTS], "compressed", (scenario,)).timing == "compressed"
    assert load_settings([DEFAULT_MANIFESTS]).timing == "compressed"  # the file alone


def test_a_layers_bad_value_is_blamed_on_the_layer() -> None:
    layer = SettingsLayer("s.yaml: sandbox", {"hpa_sync_period_s": -1})
    with pytest.raises(ConfigError, match=r"^s\.yaml: sandbox: hpa_sync_period_s must be"):
        load_settings([DEFAULT_MANIFESTS], None, (layer,))


def test_missing_manifests_are_refused_before_any_run(scenario: Path) -> None:
    code, output = sweep(
        str(scenario),
        "--sandbox",
        "--vary",
        "timing=compressed",
        "--manifests",
        str(scenario.parent / "nope"),
    )
    assert code == 2
    assert f"--manifests {scenario.parent / 'nope'}: no such file or directory" in output


def test_a_cell_whose_data_plane_cannot_apply_the_manifests_is_refused_before_any_run(
    scenario: Path,
) -> None:
    """The resilience overlay's DestinationRule needs the istio data plane's CRDs: a
    kube-proxy cell would stop with exit 2 after the istio cell had run; it is named first."""
    shop = Path(__file__).resolve().parents[1] / "deploy" / "shop"
    args = [str(scenario), "--sandbox", "--manifests", str(shop / "sandbox")]
    args += ["--manifests", str(shop / "resilience"), "--vary", "data_plane=istio,kube-proxy"]

    code, output = sweep(*args)

    assert code == 2
    said = " ".join(output.split())
    assert "cell data_plane=kube-proxy: " in said
    assert "DestinationRule is served under the istio data plane only" in said
    assert "data_plane=istio:" not in said  # that cell's sandbox applies them
