"""``Sidecar``: what the ``istio`` data plane adds to one Service port's balancing.

The route its requests take (a VirtualService's fault, retries and timeout, or the
mesh's defaults: ``virtualservices``, ``retrying``) and, while a DestinationRule
for the Service has ``outlierDetection``, the ``OutlierDetector`` whose ejections the
listener's ``Backends`` leave out of their picks. A changed policy starts a fresh
detector, as Envoy rebuilds a cluster whose outlier settings changed. Loop thread only.
"""

from __future__ import annotations

import logging
import random

from slagate.sandbox.proxy.outliers import OutlierDetector, OutlierPolicy
from slagate.sandbox.proxy.upstreams import Backends, Upstream
from slagate.sandbox.proxy.virtualservices import DEFAULT_ROUTE, Route

logger = logging.getLogger(__name__)


class Sidecar:
    """``name`` labels the log lines and the ejection metrics (Envoy's cluster name);
    ``rng`` draws the faults' percentages."""

    def __init__(self, backends: Backends, name: str, rng: random.Random | None = None) -> None:
        self.backends = backends
        self.name = name
        self.rng = rng or random.Random()
        self.route: Route = DEFAULT_ROUTE
        self.detector: OutlierDetector | None = None

    def set_route(self, route: Route | None) -> None:
        """Route requests by ``route`` from now on (None: the mesh's defaults)."""
        self.route = route or DEFAULT_ROUTE

    def set_outliers(self, policy: OutlierPolicy | None, now: float) -> None:
        """Detect outliers under ``policy`` from now on (None: no detection)."""
        if self.detector is not None and self.detector.policy == policy:
            return
        self.detector = None if policy is None else OutlierDetector(policy, now)
        self.endpoints_changed()

    def endpoints_changed(self) -> None:
        """The backends' endpoints were replaced: track the new set."""
        detector = self.detector
        if detector is None:
            self.backends.set_ejected(frozenset())
            return
        detector.retain(self.backends.endpoints)
        self.backends.set_ejected(detector.ejected())

    def observe(self, upstream: Upstream, status: int, now: float) -> None:
        """One attempt's outcome (the status the proxy or the endpoint answered)."""
        detector = self.detector
        if detector is not None and detector.observe(upstream.endpoint, status, now):
            logger.info("%s: ejected %s (outlier detection)", self.name, upstream.endpoint)
            self.backends.set_ejected(detector.ejected())

    def tick(self, now: float) -> None:
        """Run the outlier sweeps due by ``now`` (called as a request arrives)."""
        detector = self.detector
        if detector is not None and detector.sweep(now):
            self.backends.set_ejected(detector.ejected())

    @property
    def ejections_total(self) -> int:
        return 0 if self.detector is None else self.detector.ejections_total

    @property
    def ejections_active(self) -> int:
        return 0 if self.detector is None else self.detector.ejections_active
