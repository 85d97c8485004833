"""Named timing settings: ``real-time`` is upstream's clock, ``compressed`` the overlay's,
chosen by ``timing:`` in ``sandbox-settings.yaml`` or ``--timing``, and shown as a profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from slagate.errors import ConfigError
from slagate.sandbox import DEFAULT_MANIFESTS
from slagate.sandbox.applying import load_settings
from slagate.sandbox.daemon import DaemonState
from slagate.sandbox.settings import SandboxSettings

UPSTREAM = {
    # kube-controller-manager flags and metrics-server's resolution
    "hpa_sync_period_s": 15.0,
    "metrics_resolution_s": 15.0,
    "hpa_cpu_initialization_period_s": 300.0,
    "hpa_initial_readiness_delay_s": 30.0,
    "hpa_downscale_stabilization_s": 300.0,
    # kubelet back-offs: 10 s doubling up to 5 minutes
    "crashloop_backoff_initial_s": 10.0,
    "crashloop_backoff_max_s": 300.0,
    "image_pull_backoff_initial_s": 10.0,
    "image_pull_backoff_max_s": 300.0,
    # pod start-up: the scheduler's cycle, a small image's pull, the runtime's start; a
    # new node about a minute after a pod found no room (Karpenter)
    "pod_scheduling_delay_s": 0.1,
    "image_pull_delay_s": 2.0,
    "pod_start_delay_s": 0.5,
    "node_provisioning_delay_s": 60.0,
}
COMPRESSED = {
    "hpa_sync_period_s": 2.0,
    "metrics_resolution_s": 2.0,
    "hpa_cpu_initialization_period_s": 10.0,
    "hpa_initial_readiness_delay_s": 5.0,
    "hpa_downscale_stabilization_s": 15.0,
    "crashloop_backoff_initial_s": 2.0,
    "crashloop_backoff_max_s": 20.0,
    "image_pull_backoff_initial_s": 2.0,
    "image_pull_backoff_max_s": 20.0,
    "pod_scheduling_delay_s": 0.05,
    "image_pull_delay_s": 0.2,
    "pod_start_delay_s": 0.1,
    "node_provisioning_delay_s": 20.0,
}


def values(settings: SandboxSettings, keys: dict[str, float]) -> dict[str, float]:
    return {key: getattr(settings, key) for key in keys}


def test_real_time_is_upstreams_clock_and_the_default() -> None:
    real_time = SandboxSettings.timed("real-time")

    assert values(real_time, UPSTREAM) == UPSTREAM
    assert real_time == SandboxSettings()  # no settings at all: upstream's
    assert real_time.profile.timings == UPSTREAM


def test_compressed_shortens_every_timing_and_nothing_else() -> None:
    compressed = SandboxSettings.timed("compressed")

    assert values(compressed, COMPRESSED) == COMPRESSED
    assert compressed.hpa_tolerance == 0.1
    assert compressed.endpoint_propagation_delay_s == 1.0  # the data plane's, not a timing


def test_the_packaged_overlay_is_compressed_and_real_time_replaces_its_name() -> None:
    overlay = load_settings([DEFAULT_MANIFESTS])
    real_time = load_settings([DEFAULT_MANIFESTS], timing="real-time")

    assert (overlay.timing, values(overlay, COMPRESSED)) == ("compressed", COMPRESSED)
    assert (real_time.timing, values(real_time, UPSTREAM)) == ("real-time", UPSTREAM)
    # the file's own keys still hold: Prometheus scrapes every second either way
    assert (overlay.scrape_interval_s, real_time.scrape_interval_s) == (1.0, 1.0)
    assert real_time.profile.overridden == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "timing: realtime\n",
            "sandbox-settings.yaml: timing: unknown timing 'realtime'; "
            "valid: compressed, real-time",
            id="unknown-name",
        ),
        pytest.param("timing: 15\n", "timing must be a name, got 15", id="a-number"),
        pytest.param(
            "timing: compressed\nhpa_sync_period_s: fast\n",
            "hpa_sync_period_s: expected a duration such as 30s, 2m or 500ms, got 'fast'",
            id="bad-value-beside-a-name",
        ),
    ],
)
def test_a_bad_timing_in_the_file_names_file_value_and_valid_names(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "sandbox-settings.yaml").write_text(text)

    with pytest.raises(ConfigError) as caught:
        load_settings([tmp_path])

    assert str(caught.value).startswith(str(tmp_path / "sandbox-settings.yaml"))
    assert message in str(caught.value)


def test_an_unknown_timing_option_is_blamed_on_the_option_not_the_file() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings([DEFAULT_MANIFESTS], timing="slow")

    assert str(caught.value) == "--timing: unknown timing 'slow'; valid: compressed, real-time"


def test_a_timing_set_apart_in_the_file_is_shown_as_such(tmp_path: Path) -> None:
    (tmp_path / "sandbox-settings.yaml").write_text("timing: real-time\nhpa_sync_period_s: 5\n")

    profile = load_settings([tmp_path]).profile

    assert (profile.timing, profile.overridden) == ("real-time", ["hpa_sync_period_s"])
    assert profile.timings["hpa_sync_period_s"] == 5.0
    assert "hpa_sync_period_s 5 s," in profile.describe()
    assert profile.describe().startswith(
        "timing real-time, set apart from it: hpa_sync_period_s (crashloop_backoff_initial_s "
    )


def test_the_profile_names_timings_and_data_plane_in_one_line() -> None:
    described = SandboxSettings.timed("compressed").profile.describe()

    assert described == (
        "timing compressed (crashloop_backoff_initial_s 2 s, crashloop_backoff_max_s 20 s, "
        "hpa_cpu_initialization_period_s 10 s, hpa_downscale_stabilization_s 15 s, "
        "hpa_initial_readiness_delay_s 5 s, hpa_sync_period_s 2 s, "
        "image_pull_backoff_initial_s 2 s, image_pull_backoff_max_s 20 s, "
        "image_pull_delay_s 0.2 s, metrics_resolution_s 2 s, node_provisioning_delay_s 20 s, "
        "pod_scheduling_delay_s 0.05 s, pod_start_delay_s 0.1 s; hpa_tolerance 0.1, "
        "scrape_interval_s 60 s; probe periods as the manifests say); data plane per-request "
        "(endpoint changes reach the proxy after 1 s)"
    )


@pytest.mark.parametrize(
    ("settings", "capacity"),
    [
        pytest.param({}, "", id="default-one-unlimited-node-unsaid"),
        pytest.param({"node_cpu_m": 600}, "nodes of 600m CPU and 110 pods, 1 node", id="one-node"),
        pytest.param(
            {"node_cpu_m": 600, "node_max_pods": 8, "max_nodes": 3},
            "nodes of 600m CPU and 8 pods, up to 3, a new one 20 s after a pod found no room",
            id="provisioned",
        ),
    ],
)
def test_the_profile_states_a_capacity_limit(settings: dict[str, int], capacity: str) -> None:
    profile = SandboxSettings.from_mapping({"timing": "compressed", **settings}, "f").profile

    assert profile.capacity == capacity
    assert profile.describe().endswith(f"; {capacity}" if capacity else "after 1 s)")


def test_capacity_counts_are_whole_numbers() -> None:
    settings = SandboxSettings.from_mapping({"node_cpu_m": 600.0, "max_nodes": 2}, "f")

    assert (settings.node_cpu_m, settings.max_nodes) == (600, 2)
    assert isinstance(settings.node_cpu_m, int)


def test_status_reads_the_profile_back_from_the_daemon_state() -> None:
    profile = SandboxSettings.timed("real-time").profile
    state = DaemonState(
        1, 0.0, "x", "/s", "https://127.0.0.1:1", "/k", profile=profile.model_dump()
    )

    again = DaemonState.from_json(state.to_json())

    assert again.described_profile == profile.describe()
    assert "hpa_downscale_stabilization_s 300 s," in again.described_profile
    assert "not recorded" in DaemonState(1, 0.0, "x", "/s", "u", "/k").described_profile


@pytest.mark.parametrize(
    ("plane", "timing", "expected"),
    [
        # the target group's own defaults: ALB 5 checks, NLB 3, both 30 s apart; 300 s drain
        pytest.param("aws-alb", "real-time", (30.0, 5, 15.0, 300.0), id="alb-real-time"),
        pytest.param("aws-nlb", "real-time", (30.0, 3, 60.0, 300.0), id="nlb-real-time"),
        pytest.param("aws-alb", "compressed", (1.0, 5, 7.0, 15.0), id="alb-compressed"),
        pytest.param("aws-nlb", "compressed", (1.0, 3, 10.0, 15.0), id="nlb-compressed"),
    ],
)
def test_load_balancer_timings_follow_the_data_plane_and_the_clock(
    plane: str, timing: str, expected: tuple[float, int, float, float]
) -> None:
    settings = SandboxSettings.from_mapping({"timing": timing, "data_plane": plane}, "f.yaml")

    group = settings.target_group
    assert group is not None
    assert (
        group.health_check_interval_s,
        group.healthy_threshold_count,
        group.deregistration_propagation_s,
        group.deregistration_delay_s,
    ) == expected
    assert settings.routing_delay_s == max(group.registration_s, expected[2])
    assert settings.profile.target_group == group.as_settings()
    assert settings.profile.termination_lag_s == expected[2]


def test_a_load_balancer_timing_set_in_the_file_wins_and_is_recorded() -> None:
    data = {"timing": "compressed", "data_plane": "aws-nlb", "deregistration_propagation_s": 4}

    settings = SandboxSettings.from_mapping(data, "f.yaml")

    assert settings.profile.termination_lag_s == 4.0
    assert settings.profile.termination_lag_name == "aws-nlb's deregistration propagation"
    assert settings.profile.describe().endswith(
        "data plane aws-nlb (a new target gets requests after 3 health checks 1 s apart "
        "(3 s), a leaving one until 4 s later; deregistration delay 15 s)"
    )


def test_other_data_planes_have_no_target_group_and_lag_by_the_endpoint_delay() -> None:
    settings = SandboxSettings.from_mapping({"data_plane": "kube-proxy"}, "f.yaml")

    assert settings.target_group is None
    assert settings.profile.target_group is None
    assert settings.profile.termination_lag_s == 2.0  # 1 s delay + 1 s jitter


@pytest.mark.parametrize("count", [0, 2.5])
def test_a_bad_healthy_threshold_count_is_refused_naming_it(count: float) -> None:
    data = {"data_plane": "aws-alb", "healthy_threshold_count": count}

    with pytest.raises(
        ConfigError, match=rf"healthy_threshold_count must be a whole number >= 1, got {count}"
    ):
        SandboxSettings.from_mapping(data, "f.yaml")


def test_a_bad_scenario_layer_is_refused_before_the_sandbox_writes_anything(
    tmp_path: Path,
) -> None:
    from slagate.sandbox import Sandbox
    from slagate.scenario import SettingsLayer

    layer = SettingsLayer("x.yaml: sandbox", {"data_plane": "envoy"})
    with pytest.raises(ConfigError, match=r"^x\.yaml: sandbox: data_plane: unknown data plane"):
        Sandbox.start(tmp_path / "state", layers=(layer,))
    assert not (tmp_path / "state").exists()  # a run folder without sandbox logs is dropped


@pytest.mark.parametrize(
    ("value", "seconds"), [("500ms", 0.5), ("5s", 5.0), ("2m", 120.0), (3, 3.0)]
)
def test_a_seconds_setting_takes_a_duration(value: object, seconds: float) -> None:
    settings = SandboxSettings.from_mapping({"endpoint_propagation_delay_s": value}, "f")
    assert settings.endpoint_propagation_delay_s == seconds


@pytest.mark.parametrize("key", ["node_cpu_m", "max_nodes"])
def test_a_whole_number_setting_refuses_a_fraction_rather_than_cutting_it(key: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^f\.yaml: {key} must be a whole number >= 0, got 2\.5$"
    ):
        SandboxSettings.from_mapping({key: 2.5}, "f.yaml")


def test_a_pod_limit_alone_is_a_node_model_the_profile_states() -> None:
    settings = SandboxSettings.from_mapping({"node_max_pods": 3}, "f.yaml")
    assert settings.profile.capacity == "nodes of unlimited CPU and 3 pods, 1 node"
    assert SandboxSettings.from_mapping({}, "f.yaml").profile.capacity == ""
