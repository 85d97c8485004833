"""Resource quantities (``"250m"``, ``"0.5"``) as the integers the sandbox decides with.

Parsed with the official client's ``parse_quantity``; the pure decisions (which never
import ``kubernetes``) only see the integers.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from slagate.sandbox.objects.bodies import RawObject, mapping_at


def milli_value(raw: Any) -> int | None:
    """A quantity (``"250m"``, ``"0.5"``, ``"1Ki"`` or a JSON number) in thousandths,
    rounded up as upstream ``Quantity.MilliValue()`` does; None if it is not a quantity."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    try:  # a JSON number through its text, so that 0.1 is exactly 0.1
        value: Decimal = parse_quantity(str(raw).strip())  # type: ignore[no-untyped-call]
        return math.ceil(value * 1000)
    except (ValueError, ArithmeticError):
        return None


def cpu_request_m(pod: RawObject) -> int | None:
    """The sum of the containers' CPU requests in millicores; None if one has none
    (upstream then refuses a Utilization target)."""
    return request_m(pod, "cpu")


def request_m(pod: RawObject, resource: str) -> int | None:
    """The sum of the requests of ``resource`` (``cpu``, ``memory``) in milli-units
    (millicores, milli-bytes) over the containers that run together: the app containers
    and the native sidecars, as upstream's HPA ``calculateRequests`` sums them (their usage
    counts too). None if one has none."""
    spec = mapping_at(pod, "spec")
    total = 0
    for container in [*(spec.get("containers") or []), *_sidecars(spec)]:
        request = mapping_at(container, "resources", "requests").get(resource)
        millis = milli_value(request) if request is not None else None
        if millis is None:
            return None
        total += millis
    return total


def scheduled_cpu_m(pod: RawObject) -> int:
    """The CPU (millicores) the scheduler reserves for ``pod``: upstream's effective
    request, a missing request counting 0. The app containers and the native sidecars
    (init containers with ``restartPolicy: Always``) run together; a plain init container
    runs beside the sidecars started before it, alone otherwise: the larger of the two."""
    spec = mapping_at(pod, "spec")
    inits = _inits(spec)
    sidecars = _sidecars(spec)
    together = sum(map(_cpu_m, [*(spec.get("containers") or []), *sidecars]))
    plain = [_cpu_m(c) + sum(map(_cpu_m, sidecars[: _started_before(inits, c)])) for c in inits
             if not _is_sidecar(c)]  # fmt: skip
    return max([together, *plain])


def _inits(spec: RawObject) -> list[dict[str, Any]]:
    return [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]


def _is_sidecar(container: dict[str, Any]) -> bool:
    """A native sidecar: an init container with ``restartPolicy: Always``."""
    return container.get("restartPolicy") == "Always"


def _sidecars(spec: RawObject) -> list[dict[str, Any]]:
    return [c for c in _inits(spec) if _is_sidecar(c)]


def _started_before(inits: list[dict[str, Any]], container: dict[str, Any]) -> int:
    """How many native sidecars come before ``container`` in ``initContainers``."""
    return sum(map(_is_sidecar, inits[: inits.index(container)]))


def _cpu_m(container: object) -> int:
    if not isinstance(container, dict):
        return 0
    return milli_value(mapping_at(container, "resources", "requests").get("cpu")) or 0


def cpu_limit_m(pod: RawObject, container: str) -> int | None:
    """``container``'s CPU limit in millicores (an app or an init container); None
    without one."""
    spec_of = mapping_at(pod, "spec")
    for spec in [*(spec_of.get("containers") or []), *(spec_of.get("initContainers") or [])]:
        if isinstance(spec, dict) and spec.get("name") == container:
            return milli_value(mapping_at(spec, "resources", "limits").get("cpu"))
    return None
