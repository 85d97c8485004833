"""Upstream's endpoint categorization table, replayed against the sandbox proxy's topology.

Source: kubernetes/kubernetes pkg/proxy/topology_test.go, TestCategorizeEndpoints, read at
commit 02756999a07f133c152b3078ed93c4b870f800d4 (the version with the
ProxyTerminatingEndpoints gate, which went GA in 1.28, so "PTE enabled" is today's
behaviour). Inputs and expected cluster endpoints are transcribed; the code is ours.
Target: ``proxy.topology.routable_endpoints`` with ``fallback_to_terminating`` (the
``kube-proxy`` data plane), the set of endpoints the sandbox's service proxy routes a
Service port to.

Mapping: upstream's ``10.x.y.z`` addresses become ``127.x.y.z`` (the sandbox proxy only
routes loopback endpoints); each case becomes one EndpointSlice with one unnamed port 80
whose endpoints carry the case's ready/serving/terminating conditions and zone hints.

Replayed: 14 of 36 cases, all passing, every one without a Local traffic policy and
without hint-based filtering, including those where upstream ignores the hints.

Not replayed, with the reason:

- Hint filtering (topology-aware routing): ``hints enabled, hints annotation == auto``,
  ``normal endpoint filtering, auto annotation``, ``unready endpoint``, ``normal endpoint
  filtering, Auto annotation``, ``multiple hints per endpoint, ...``, ``conflicting
  topology and localness require merging allEndpoints``. The sandbox runs one node in no
  zone and its EndpointSlice controller writes no hints.
- internalTrafficPolicy / externalTrafficPolicy Local (15 cases: every ``iTP``/``eTP``/
  ``...TrafficPolicy: Local`` case but ``externalTrafficPolicy ignored if not externally
  accessible``): on the sandbox's one node every endpoint is local, and it has no
  NodePorts.
- ``Cluster traffic policy, PTE disabled, all endpoints are terminating``: the gate no
  longer exists upstream.

``Cluster traffic policy, PTE enabled, all endpoints are terminating`` is the fallback
to serving-terminating endpoints when none is ready; the ``per-request`` data plane does
not fall back (``tests/sandbox/proxy/test_routing.py`` says so).
"""

from __future__ import annotations

from typing import Any

import pytest

from slagate.sandbox.proxy.topology import routable_endpoints
from slagate.sandbox.proxy.upstreams import Endpoint


def ep(
    address: str,
    ready: bool = True,
    serving: bool | None = None,
    terminating: bool = False,
    zones: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One upstream ``BaseEndpointInfo`` as an EndpointSlice endpoint on loopback."""
    conditions = {
        "ready": ready,
        "serving": ready if serving is None else serving,
        "terminating": terminating,
    }
    body: dict[str, Any] = {
        "addresses": [address.replace("10.", "127.", 1)],
        "conditions": conditions,
    }
    if zones:
        body["hints"] = {"forZones": [{"name": z} for z in zones]}
    return body


def cluster(*addresses: str) -> frozenset[Endpoint]:
    return frozenset(Endpoint(a.replace("10.", "127.", 1), 80) for a in addresses)


FOUR = (
    ep("10.1.2.3", zones=("zone-a",)),
    ep("10.1.2.4", zones=("zone-b",)),
    ep("10.1.2.5", zones=("zone-c",)),
    ep("10.1.2.6", zones=("zone-a",)),
)
ALL_FOUR = cluster("10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6")
ONE = (ep("10.1.2.3", zones=("zone-a",)),)
TERMINATING = (
    ep("10.0.0.0", ready=False, serving=True, terminating=True),
    ep("10.0.0.1", ready=False, serving=True, terminating=True),
)

CASES = [
    pytest.param(FOUR, ALL_FOUR, id="hints,_hints_annotation_==_disabled,_hints_ignored"),
    pytest.param(
        FOUR, ALL_FOUR, id="hints,_hints_annotation_==_aUto_(wrong_capitalization),_hints_ignored"
    ),
    pytest.param(FOUR, ALL_FOUR, id="hints,_hints_annotation_empty,_hints_ignored"),
    pytest.param(ONE, cluster("10.1.2.3"), id="empty_node_labels"),
    pytest.param(ONE, cluster("10.1.2.3"), id="empty_zone_label"),
    pytest.param(ONE, cluster("10.1.2.3"), id="node_in_different_zone,_no_endpoint_filtering"),
    pytest.param(
        (
            ep("10.1.2.3", ready=False, zones=("zone-a",)),
            ep("10.1.2.4", zones=("zone-b",)),
            ep("10.1.2.5", zones=("zone-c",)),
            ep("10.1.2.6", ready=False, zones=("zone-a",)),
        ),
        cluster("10.1.2.4", "10.1.2.5"),
        id="only_unready_endpoints_in_same_zone_(should_not_filter)",
    ),
    pytest.param(FOUR, ALL_FOUR, id="hintsAnnotation_empty,_no_filtering_applied"),
    pytest.param(FOUR, ALL_FOUR, id="hintsAnnotation_disabled,_no_filtering_applied"),
    pytest.param(
        (
            ep("10.1.2.3", zones=("zone-a",)),
            ep("10.1.2.4", zones=("zone-b",)),
            ep("10.1.2.5"),
            ep("10.1.2.6", zones=("zone-a",)),
        ),
        ALL_FOUR,
        id="missing_hints,_no_filtering_applied",
    ),
    pytest.param(
        (ep("10.0.0.0", ready=False), ep("10.0.0.1", ready=False)),
        cluster(),
        id="Cluster_traffic_policy,_endpoints_not_Ready",
    ),
    pytest.param(
        (ep("10.0.0.0", ready=False), ep("10.0.0.1")),
        cluster("10.0.0.1"),
        id="Cluster_traffic_policy,_some_endpoints_are_Ready",
    ),
    pytest.param(
        TERMINATING,
        cluster("10.0.0.0", "10.0.0.1"),
        id="Cluster_traffic_policy,_PTE_enabled,_all_endpoints_are_terminating",
    ),
    pytest.param(
        (ep("10.0.0.0"), ep("10.0.0.1")),
        cluster("10.0.0.0", "10.0.0.1"),
        id="externalTrafficPolicy_ignored_if_not_externally_accessible",
    ),
]


@pytest.mark.parametrize(("endpoints", "expected"), CASES)
def test_categorize_endpoints(
    endpoints: tuple[dict[str, Any], ...], expected: frozenset[Endpoint]
) -> None:
    """The cluster endpoints upstream's CategorizeEndpoints returns for the case."""
    endpoint_slice = {"endpoints": list(endpoints), "ports": [{"name": "", "port": 80}]}

    assert routable_endpoints([endpoint_slice], fallback_to_terminating=True) == {"": expected}
