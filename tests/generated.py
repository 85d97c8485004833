"""Settings and strategies shared by the generated-input tests (hypothesis).

Every generated test runs a fixed number of cases, derandomized and without hypothesis'
example database: the same inputs on every machine and every run, so CI stays
deterministic and fast, and a failure prints the input that found it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

GENERATED = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""The parent of every generated test's ``settings(GENERATED, max_examples=N)``."""

SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, float("nan"), float("inf"), -float("inf"), -0.0]),
    st.text(max_size=12),
    st.sampled_from(["", "30s", "-5s", "2m", "500ms", "1e400s", "99999h", "1.5.5s", "1 h"]),
)
"""Values of every YAML scalar type, with the edges (huge, negative, non-finite, empty)."""


def values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Arbitrary nested YAML values whose mapping keys come from ``keys``."""
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)
        ),
        max_leaves=12,
    )
