"""DestinationRules (``networking.istio.io``) -> the outlier policy per Service (pure).

A rule's ``spec.host`` names a Service as Istio resolves it: a short name in the rule's
own namespace (``product``), ``product.shop``, or the FQDN
``product.shop.svc.cluster.local``. When several rules name one Service, the oldest
(``creationTimestamp``, then namespace/name) wins, as Istio keeps the first.

Read: ``trafficPolicy.outlierDetection`` (``outliers``). Everything else a rule may
carry (``subsets``, ``connectionPool``, ``loadBalancer``, ``tls``,
``portLevelSettings``, ``exportTo``, ``workloadSelector``, wildcard hosts) is not
modelled: ``problems`` names each one with its rule, and the proxy logs it, so that a
verdict is never reached under a rule silently reduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slagate.sandbox.objects.bodies import RawObject, mapping_at
from slagate.sandbox.proxy.outliers import OutlierPolicy, outlier_policy
from slagate.sandbox.proxy.telemetry import CLUSTER_DOMAIN
from slagate.sandbox.proxy.topology import ServiceKey

_READ_SPEC = ("host", "trafficPolicy")
_READ_POLICY = ("outlierDetection",)


@dataclass(frozen=True)
class Rule:
    """What one DestinationRule means to the proxy."""

    service: ServiceKey | None
    """The Service its host names; None for hosts that name none (wildcards, external)."""
    created: str
    outliers: OutlierPolicy | None
    problems: tuple[str, ...]


def read_rule(obj: RawObject) -> Rule:
    metadata = mapping_at(obj, "metadata")
    namespace = str(metadata.get("namespace") or "default")
    where = f"DestinationRule {namespace}/{metadata.get('name')}"
    spec = mapping_at(obj, "spec")
    host = spec.get("host")
    service = _service(host, namespace) if isinstance(host, str) else None
    problems = [f"{where}: spec.{key} is not modelled" for key in spec if key not in _READ_SPEC]
    if service is None:
        problems.append(f"{where}: spec.host {host!r} names no Service; the rule is ignored")
    policy = mapping_at(spec, "trafficPolicy")
    problems += [
        f"{where}: spec.trafficPolicy.{key} is not modelled"
        for key in policy
        if key not in _READ_POLICY
    ]
    outliers = None
    if "outlierDetection" in policy:
        outliers, unread = outlier_policy(mapping_at(policy, "outlierDetection"))
        problems += [f"{where}: spec.trafficPolicy.{text}" for text in unread]
    created = str(metadata.get("creationTimestamp") or "")
    return Rule(service, created, outliers, tuple(problems))


def _service(host: str, namespace: str) -> ServiceKey | None:
    parts = host.removesuffix(f".{CLUSTER_DOMAIN}").removesuffix(".svc").split(".")
    if "*" in host or not parts[0] or len(parts) > 2:
        return None
    return ServiceKey(parts[1] if len(parts) == 2 else namespace, parts[0])


@dataclass
class DestinationRules:
    """Every rule the proxy knows, by (namespace, name)."""

    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)

    def replace(self, items: list[RawObject]) -> list[str]:
        """A fresh list; the problems of the rules read."""
        self.rules = {_key(obj): read_rule(obj) for obj in items}
        return [text for rule in self.rules.values() for text in rule.problems]

    def apply(self, event_type: str, obj: RawObject) -> list[str]:
        """One watch event; the problems of the rule read (none for DELETED)."""
        if event_type == "DELETED":
            self.rules.pop(_key(obj), None)
            return []
        rule = self.rules[_key(obj)] = read_rule(obj)
        return list(rule.problems)

    def outliers(self, service: ServiceKey) -> OutlierPolicy | None:
        """The outlier policy of the oldest rule naming ``service``, if it has one."""
        naming = sorted(
            (rule.created, key) for key, rule in self.rules.items() if rule.service == service
        )
        return self.rules[naming[0][1]].outliers if naming else None


def _key(obj: RawObject) -> tuple[str, str]:
    metadata = mapping_at(obj, "metadata")
    return str(metadata.get("namespace") or "default"), str(metadata.get("name") or "")
