"""The HorizontalPodAutoscaler controller: every sync period, scale the target by CPU.

Each HPA is synced every ``hpa_sync_period_s`` (upstream queues every HPA with that delay,
whatever event names it, so edits do not make it sync faster). A sync reads the target's
scale (``spec.replicas`` and the selector of a Deployment or ReplicaSet), the pods the
selector matches with their CPU requests, and each pod's latest sample from the
``PodMetricsSource``; ``decide_scale`` decides with the controller's memory of this HPA
(recommendations and scale events, kept per HPA uid); a rescale writes the target's
``spec.replicas`` as the ``/scale`` subresource would, with a ``SuccessfulRescale`` Event;
the status is written every time (``desiredReplicas`` always, ``lastScaleTime`` only on a
rescale). Failures are Warning Events and conditions, worded as upstream.

Supported: autoscaling/v2 ``Resource`` metrics on ``cpu`` and ``memory`` (Utilization or
AverageValue), any number of them (the largest proposal wins), and ``spec.behavior``;
targets of kind Deployment and ReplicaSet. ``Pods``, ``Object``, ``External`` and
``ContainerResource`` metrics are invalid metrics with upstream's reasons (no custom or
external metrics API here): a Warning Event each sync, and ScalingActive=False when they
block the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slagate.errors import ApiError, NotFound
from slagate.sandbox.apiserver.scale import apply_scale
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.controllermanager.owners import Key, key_of
from slagate.sandbox.controllermanager.reading import conditions_of, hpa_spec, integer, pod_sample
from slagate.sandbox.controllermanager.reconciling import Controller, Wiring
from slagate.sandbox.controllermanager.recording import EventRecorder
from slagate.sandbox.controllermanager.writing import condition_body, format_time
from slagate.sandbox.decisions.conditions import Condition, set_hpa_condition
from slagate.sandbox.decisions.hpa import (
    ABLE_TO_SCALE,
    SCALING_ACTIVE,
    HPADecision,
    HPASettings,
    MetricValue,
    decide_scale,
)
from slagate.sandbox.decisions.hpa_behavior import HPAMemory
from slagate.sandbox.decisions.hpa_replicas import CalculatorSettings, PodSample
from slagate.sandbox.metrics import PodMetricsSource
from slagate.sandbox.objects.bodies import RawObject, mapping_at, metadata, name_of
from slagate.sandbox.objects.labelselectors import LabelSelector, selector_from_object
from slagate.sandbox.objects.resources import (
    DEPLOYMENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    PODS,
    REPLICASETS,
    ResourceType,
)
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings

_TARGETS = {"Deployment": DEPLOYMENTS, "ReplicaSet": REPLICASETS}


def hpa_settings(settings: SandboxSettings) -> HPASettings:
    """The decision's settings from the sandbox's (named after the upstream flags)."""
    calculator = CalculatorSettings(
        tolerance=settings.hpa_tolerance,
        cpu_initialization_period_s=settings.hpa_cpu_initialization_period_s,
        initial_readiness_delay_s=settings.hpa_initial_readiness_delay_s,
    )
    return HPASettings(calculator, settings.hpa_downscale_stabilization_s)


@dataclass(frozen=True)
class _Target:
    """The scale target as the sync found it; a rescale is conditional on
    ``resource_version``, as an update of the ``/scale`` read would be."""

    resource: ResourceType
    name: str
    replicas: int
    selector: LabelSelector
    resource_version: str


class HPAController(Controller):
    name = "horizontal-pod-autoscaler"

    def __init__(
        self, wiring: Wiring, settings: SandboxSettings, metrics: PodMetricsSource
    ) -> None:
        super().__init__(wiring, wiring.informers.hpas)
        self.events = EventRecorder(self.store, self.name, self.clock)
        self._period_s = settings.hpa_sync_period_s
        self._settings = hpa_settings(settings)
        self._metrics = metrics
        self._memory: dict[Key, tuple[str, HPAMemory]] = {}
        wiring.informers.hpas.add_handler(self._on_hpa)

    def _on_hpa(self, kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        if kind is not EventType.DELETED:
            self.queue.add_after(key_of(obj), self._period_s)

    def sync(self, key: Key) -> None:
        try:
            hpa = self.store.get(HORIZONTAL_POD_AUTOSCALERS, *key)
        except NotFound:
            self._memory.pop(key, None)
            return
        self.queue.add_after(key, self._period_s)
        now = self.clock()
        target = self._target(hpa, now)
        if target is not None:
            self._reconcile(key, hpa, target, now)

    def _target(self, hpa: RawObject, now: float) -> _Target | None:
        """Read the scale target; on failure record why (status and Event) and give None."""
        ref = mapping_at(hpa, "spec", "scaleTargetRef")
        kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
        resource = _TARGETS.get(kind)
        if resource is None:
            message = f'no matches for kind "{kind}": the sandbox scales Deployment, ReplicaSet'
            self._failed_get_scale(hpa, message, now)
            return None
        try:
            target = self.store.get(resource, key_of(hpa)[0], name)
        except NotFound as error:
            self._failed_get_scale(hpa, error.message, now)
            return None
        replicas = integer(mapping_at(target, "spec").get("replicas"), 1)
        selector = _selector(target)
        if selector is None:
            self._invalid_selector(hpa, replicas, now)
            return None
        version = str(metadata(target).get("resourceVersion", ""))
        return _Target(resource, name, replicas, selector, version)

    def _reconcile(self, key: Key, hpa: RawObject, target: _Target, now: float) -> None:
        namespace = key[0]
        pods = self.store.list(Selection(PODS, namespace, labels=target.selector)).items
        samples = [self._sample(namespace, p) for p in pods]
        decision = decide_scale(
            hpa_spec(hpa),
            target.replicas,
            samples,
            now,
            memory=self._recall(key, hpa),
            conditions=conditions_of(mapping_at(hpa, "status")),
            settings=self._settings,
        )
        self._memory[key] = (str(metadata(hpa).get("uid", "")), decision.memory)
        for failure in decision.metric_errors:
            self.events.warning(hpa, failure.reason, failure.message)
        if decision.error is not None:
            self._failed_metrics(hpa, target, decision)
        elif decision.rescale:
            self._rescale(hpa, target, decision, now)
        else:
            self._write_status(hpa, _status(hpa, target.replicas, decision))

    def _sample(self, namespace: str, pod: RawObject) -> PodSample:
        name = name_of(pod)
        cpu = self._metrics.pod_cpu(namespace, name)
        return pod_sample(pod, cpu, self._metrics.pod_memory(namespace, name))

    def _recall(self, key: Key, hpa: RawObject) -> HPAMemory | None:
        """This HPA's memory; none for a new HPA, even one reusing a deleted one's name."""
        remembered = self._memory.get(key)
        if remembered is None or remembered[0] != str(metadata(hpa).get("uid", "")):
            return None
        return remembered[1]

    def _rescale(self, hpa: RawObject, target: _Target, decision: HPADecision, now: float) -> None:
        desired = decision.desired_replicas
        scale = {
            "metadata": {"resourceVersion": target.resource_version},
            "spec": {"replicas": desired},
        }
        try:
            self.store.modify(
                target.resource,
                key_of(hpa)[0],
                target.name,
                lambda obj: apply_scale(obj, scale),
            )
        except ApiError as error:
            message = f"New size: {desired}; reason: {decision.reason}; error: {error.message}"
            self.events.warning(hpa, "FailedRescale", message)
            failed = Condition(
                ABLE_TO_SCALE,
                False,
                "FailedUpdateScale",
                f"the HPA controller was unable to update the target scale: {error.message}",
            )
            conditions = set_hpa_condition(decision.conditions, failed, now)
            self._write_status(hpa, _kept_status(hpa, target.replicas, conditions))
            return
        self.events.normal(
            hpa, "SuccessfulRescale", f"New size: {desired}; reason: {decision.reason}"
        )
        self._write_status(hpa, _status(hpa, target.replicas, decision, rescaled_at=now))

    def _failed_metrics(self, hpa: RawObject, target: _Target, decision: HPADecision) -> None:
        self.events.warning(hpa, "FailedComputeMetricsReplicas", decision.error or "")
        self._write_status(hpa, _kept_status(hpa, target.replicas, decision.conditions))

    def _failed_get_scale(self, hpa: RawObject, message: str, now: float) -> None:
        self.events.warning(hpa, "FailedGetScale", message)
        condition = Condition(
            ABLE_TO_SCALE,
            False,
            "FailedGetScale",
            f"the HPA controller was unable to get the target's current scale: {message}",
        )
        status = mapping_at(hpa, "status")
        conditions = set_hpa_condition(conditions_of(status), condition, now)
        self._write_status(hpa, {**status, "conditions": _conditions_body(conditions)})

    def _invalid_selector(self, hpa: RawObject, replicas: int, now: float) -> None:
        self.events.warning(hpa, "SelectorRequired", "selector is required")
        condition = Condition(
            SCALING_ACTIVE, False, "InvalidSelector", "the HPA target's scale is missing a selector"
        )
        conditions = set_hpa_condition(conditions_of(mapping_at(hpa, "status")), condition, now)
        self._write_status(hpa, _kept_status(hpa, replicas, conditions))

    def _write_status(self, hpa: RawObject, status: dict[str, Any]) -> None:
        self.store.modify(
            HORIZONTAL_POD_AUTOSCALERS,
            *key_of(hpa),
            lambda current: {**current, "status": status},
            subresource="status",
        )


def _selector(target: RawObject) -> LabelSelector | None:
    """The scale's selector (``status.selector`` of ``/scale``); None if missing or bad."""
    try:
        selector = selector_from_object(mapping_at(target, "spec", "selector"))
    except ApiError:
        return None
    return None if selector.is_empty else selector


def _status(
    hpa: RawObject,
    current: int,
    decision: HPADecision,
    rescaled_at: float | None = None,
) -> dict[str, Any]:
    """The status after a sync that computed a count (upstream ``setStatus``)."""
    old = mapping_at(hpa, "status")
    last_scale = format_time(rescaled_at) if rescaled_at is not None else old.get("lastScaleTime")
    return _status_body(
        hpa,
        last_scale,
        current,
        decision.desired_replicas,
        [_metric_body(metric) for metric in decision.current_metrics],
        decision.conditions,
    )


def _kept_status(hpa: RawObject, current: int, conditions: tuple[Condition, ...]) -> dict[str, Any]:
    """The status after a failed sync: desiredReplicas and currentMetrics stay as they
    were (upstream ``setCurrentReplicasInStatus``)."""
    old = mapping_at(hpa, "status")
    return _status_body(
        hpa,
        old.get("lastScaleTime"),
        current,
        integer(old.get("desiredReplicas")),
        old.get("currentMetrics"),
        conditions,
    )


def _status_body(
    hpa: RawObject,
    last_scale: Any,
    current: int,
    desired: int,
    metrics: Any,
    conditions: tuple[Condition, ...],
) -> dict[str, Any]:
    """HPA status in upstream field order; desiredReplicas is always present (the
    official client rejects a status without it), the rest only when set."""
    body: dict[str, Any] = {"observedGeneration": integer(metadata(hpa).get("generation"), 1)}
    if last_scale:
        body["lastScaleTime"] = last_scale
    if current:
        body["currentReplicas"] = current
    body["desiredReplicas"] = desired
    if metrics:
        body["currentMetrics"] = metrics
    if conditions:
        body["conditions"] = _conditions_body(conditions)
    return body


def _conditions_body(conditions: tuple[Condition, ...]) -> list[dict[str, Any]]:
    return [condition_body(c) for c in conditions]


def _metric_body(value: MetricValue) -> dict[str, Any]:
    current: dict[str, Any] = {"averageValue": value.average_value}
    if value.average_utilization is not None:
        current["averageUtilization"] = value.average_utilization
    return {"type": "Resource", "resource": {"name": value.resource.value, "current": current}}
