"""CPU quantities: Kubernetes resource strings (``"250m"``, ``"0.5"``, ``"2"``) to millicores.

Upstream ``resource.Quantity.MilliValue()`` rounds up to a whole millicore; so does this.
Pure.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

_DECIMAL_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_BINARY_SUFFIXES = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def milli_value(raw: Any) -> int | None:
    """``raw`` (a quantity string or a JSON number) in thousandths, rounded up; None if it
    is not a quantity."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return math.ceil(Decimal(str(raw)) * 1000)
    if not isinstance(raw, str):
        return None
    match = _QUANTITY.match(raw.strip())
    if match is None:
        return None
    number, suffix = match.groups()
    scale = _DECIMAL_SUFFIXES.get(suffix) or _BINARY_SUFFIXES.get(suffix)
    if scale is None or ("e" in number.lower() and suffix):
        return None
    try:
        return math.ceil(Decimal(number) * scale * 1000)
    except InvalidOperation:
        return None
