"""The timings of an AWS load balancer's target group, as the ``aws-alb`` and ``aws-nlb``
data planes model them (docs/sandbox.md, "Data-plane profiles").

With the AWS Load Balancer Controller and IP targets, a pod is a target of the load
balancer's target group: it gets requests only once the controller registered it and the
target group's health checks passed (``healthy_threshold_count`` checks in a row,
``health_check_interval_s`` apart); once it terminates or turns unready, the controller
deregisters it, and the load balancer goes on sending it new requests until that change
has propagated (``deregistration_propagation_s``); connections it already has may drain for
``deregistration_delay_s``. Names follow the target group's own settings
(``HealthCheckIntervalSeconds``, ``HealthyThresholdCount``,
``deregistration_delay.timeout_seconds``); the propagation has no setting of its own, it is
the controller's and the load balancer's lag.

Pure values; no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from slagate.errors import ConfigError

ALB = "aws-alb"
NLB = "aws-nlb"


@dataclass(frozen=True)
class TargetGroupTiming:
    health_check_interval_s: float
    """``HealthCheckIntervalSeconds``: seconds between two health checks of a target."""

    healthy_threshold_count: int
    """``HealthyThresholdCount``: passed checks in a row before a new target is healthy."""

    deregistration_propagation_s: float
    """Seconds from a pod leaving its Service's ready endpoints until the load balancer
    sends it no new request: the controller's reconcile plus the load balancer's own
    propagation (no AWS setting; seconds to a minute and more)."""

    deregistration_delay_s: float
    """``deregistration_delay.timeout_seconds``: how long a deregistered target's
    connections may drain (300 by default). Recorded and shown; the sandbox never cuts a
    request in flight (docs/sandbox.md)."""

    @property
    def registration_s(self) -> float:
        """Seconds from a pod becoming ready until the load balancer sends it requests:
        ``healthy_threshold_count x health_check_interval_s``."""
        return self.healthy_threshold_count * self.health_check_interval_s

    def as_settings(self) -> dict[str, float]:
        """Every value by its setting's name (run.json, ``--target-group``)."""
        return {key: float(value) for key, value in asdict(self).items()}

    def to_argument(self) -> str:
        """``key=value,...``: how the daemon hands these to the proxy process."""
        return ",".join(f"{key}={value!r}" for key, value in self.as_settings().items())

    @classmethod
    def from_argument(cls, text: str) -> TargetGroupTiming:
        """The inverse of ``to_argument``; ``ConfigError`` naming what is wrong."""
        try:
            pairs = dict(item.split("=", 1) for item in text.split(","))
            values = {key: float(value) for key, value in pairs.items()}
            return cls.from_settings(values, "--target-group")
        except ValueError as e:
            raise ConfigError(f"--target-group: expected key=seconds,..., got {text!r}") from e

    @classmethod
    def from_settings(cls, values: dict[str, float], source: str) -> TargetGroupTiming:
        """Built from every setting by name; ``ConfigError`` for one missing or a count
        below 1."""
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in values]
        if missing or set(values) - set(names):
            raise ConfigError(f"{source}: expected exactly {', '.join(names)}, got {values}")
        count = values["healthy_threshold_count"]
        if count < 1 or count != int(count):
            raise ConfigError(
                f"{source}: healthy_threshold_count must be a whole number >= 1, got {count!r}"
            )
        return cls(
            health_check_interval_s=values["health_check_interval_s"],
            healthy_threshold_count=int(count),
            deregistration_propagation_s=values["deregistration_propagation_s"],
            deregistration_delay_s=values["deregistration_delay_s"],
        )


SETTINGS = tuple(f.name for f in fields(TargetGroupTiming))
"""The settings-file keys of a target group's timings."""

DEFAULTS: dict[tuple[str, str], TargetGroupTiming] = {
    # real-time: the target group's own defaults (ALB: 5 checks 30 s apart; NLB: 3 checks
    # 30 s apart; deregistration delay 300 s) and a propagation seen on real clusters
    (ALB, "real-time"): TargetGroupTiming(30.0, 5, 15.0, 300.0),
    (NLB, "real-time"): TargetGroupTiming(30.0, 3, 60.0, 300.0),
    # compressed: short enough for a one-minute run, with the propagation well above the
    # shop's 2 s preStop and a new target healthy before an old one stops getting requests
    (ALB, "compressed"): TargetGroupTiming(1.0, 5, 7.0, 15.0),
    (NLB, "compressed"): TargetGroupTiming(1.0, 3, 10.0, 15.0),
}
"""Defaults per (data plane, timing); a settings file may set any of them apart."""


def target_group_timing(
    data_plane: str, timing: str, overrides: dict[str, float]
) -> TargetGroupTiming:
    """The data plane's defaults on ``timing``'s clock with ``overrides`` (set in the
    settings file) applied."""
    values = DEFAULTS[(data_plane, timing)].as_settings() | overrides
    return TargetGroupTiming.from_settings(values, "sandbox settings")
