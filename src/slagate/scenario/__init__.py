"""Scenario files: the declarative experiment (YAML) and its pydantic model.

A scenario names the target, the load shape, optional named windows, timed cluster
actions, safety limits and the SLAs to judge. ``load_scenario`` turns every problem into a
``ScenarioError`` whose lines name the file, the line, the field and what is expected.

Durations are seconds (a number) or a string with a unit: ``500ms``, ``30s``, ``2m``, ``1h``.

    base      durations, the shared base model, hard caps, built-in window names
    targets   Target (URLs), KubeTarget (namespace, Services, allowed mutations)
    shapes    Stage and the load shapes (constant, steps, ramp, spike)
    slas      windows and the SLA kinds
    actions   rollout restart, set image, scale, delete pod
    model     Limits, Abort, Scenario (checks across the parts)
    loading   load_scenario / parse_scenario with located problems
    prometheus  PrometheusSettings: where server-side metrics come from
    presets   PromQL presets (named SLIs) and query templating
"""

from slagate.scenario.actions import (
    ACTION_KINDS,
    ActionSpec,
    DeletePodAction,
    RolloutAction,
    RolloutRestartAction,
    ScaleAction,
    SetImageAction,
)
from slagate.scenario.base import (
    BUILTIN_WINDOWS,
    HARD_MAX_USERS,
    Duration,
    parse_duration,
)
from slagate.scenario.loading import load_scenario, parse_scenario
from slagate.scenario.model import Abort, Limits, Scenario, SettingsLayer
from slagate.scenario.presets import ERRORS_SUFFIX, PRESETS, REQUESTS_SUFFIX, Preset, render
from slagate.scenario.prometheus import LAG_STEPS, PrometheusSettings
from slagate.scenario.shapes import (
    DEFAULT_MAX_ENDPOINTS,
    ConstantLoad,
    LoadShape,
    RampLoad,
    SpikeLoad,
    Stage,
    StepsLoad,
    StepStage,
)
from slagate.scenario.slas import (
    NO_IRREPARABLE_BREACH,
    SLA_KINDS,
    AvailabilitySla,
    FailedRequestsSla,
    FlappingSla,
    LatencySla,
    MaxReplicasSla,
    NoLostWritesSla,
    PromqlSla,
    ReadyEndpointsSla,
    RolloutDurationSla,
    ScaleInSla,
    ScaleOutSla,
    SlaSpec,
    ThroughputSla,
    WindowRef,
    WindowSpan,
)
from slagate.scenario.targets import (
    KubeTarget,
    ShownUrl,
    ShownUrls,
    Target,
    format_services,
    parse_services,
    parse_url,
    shown_url,
    shown_urls,
)

__all__ = [
    "ACTION_KINDS",
    "BUILTIN_WINDOWS",
    "DEFAULT_MAX_ENDPOINTS",
    "ERRORS_SUFFIX",
    "HARD_MAX_USERS",
    "LAG_STEPS",
    "NO_IRREPARABLE_BREACH",
    "PRESETS",
    "REQUESTS_SUFFIX",
    "SLA_KINDS",
    "Abort",
    "ActionSpec",
    "AvailabilitySla",
    "ConstantLoad",
    "DeletePodAction",
    "Duration",
    "FailedRequestsSla",
    "FlappingSla",
    "KubeTarget",
    "LatencySla",
    "Limits",
    "LoadShape",
    "MaxReplicasSla",
    "NoLostWritesSla",
    "Preset",
    "PrometheusSettings",
    "PromqlSla",
    "RampLoad",
    "ReadyEndpointsSla",
    "RolloutAction",
    "RolloutDurationSla",
    "RolloutRestartAction",
    "ScaleAction",
    "ScaleInSla",
    "ScaleOutSla",
    "Scenario",
    "SetImageAction",
    "SettingsLayer",
    "ShownUrl",
    "ShownUrls",
    "SlaSpec",
    "SpikeLoad",
    "Stage",
    "StepStage",
    "StepsLoad",
    "Target",
    "ThroughputSla",
    "WindowRef",
    "WindowSpan",
    "format_services",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
    "parse_services",
    "parse_url",
    "render",
    "shown_url",
    "shown_urls",
]
