"""DestinationRules (``networking.istio.io``) -> the outlier policy of a Service (pure).

Read: ``spec.host`` (``meshconfig``) and ``trafficPolicy.outlierDetection``
(``outliers``). Everything else a rule may carry (``subsets``, ``connectionPool``,
``loadBalancer``, ``tls``, ``portLevelSettings``, ``exportTo``, ``workloadSelector``,
hosts that name no Service) is not modelled: the problems of its ``Read`` name each one
with its rule, and the proxy logs them, so that a verdict is never reached under a rule
silently reduced.
"""

from __future__ import annotations

from slagate.sandbox.objects.bodies import RawObject, mapping_at
from slagate.sandbox.proxy.meshconfig import MeshConfig, Read, created, service_of, where
from slagate.sandbox.proxy.outliers import OutlierPolicy, outlier_policy

_READ_SPEC = ("host", "trafficPolicy")
_READ_POLICY = ("outlierDetection",)

Rule = Read[OutlierPolicy | None]


def read_rule(obj: RawObject) -> Rule:
    metadata = mapping_at(obj, "metadata")
    here = where("DestinationRule", obj)
    spec = mapping_at(obj, "spec")
    service = service_of(spec.get("host"), str(metadata.get("namespace") or "default"))
    problems = [f"{here}: spec.{key} is not modelled" for key in spec if key not in _READ_SPEC]
    if service is None:
        problems.append(f"{here}: spec.host {spec.get('host')!r} names no Service; ignored")
    policy = mapping_at(spec, "trafficPolicy")
    problems += [
        f"{here}: spec.trafficPolicy.{key} is not modelled"
        for key in policy
        if key not in _READ_POLICY
    ]
    outliers = None
    if "outlierDetection" in policy:
        outliers, unread = outlier_policy(mapping_at(policy, "outlierDetection"))
        problems += [f"{here}: spec.trafficPolicy.{text}" for text in unread]
    services = (service,) if service is not None else ()
    return Read(services, created(obj), outliers, tuple(problems))


def destination_rules() -> MeshConfig[OutlierPolicy | None]:
    """The rules the proxy knows; ``for_service`` gives a Service's outlier policy."""
    return MeshConfig(read_rule)
