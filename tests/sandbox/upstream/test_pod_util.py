"""Upstream's pod availability table, replayed against ``decisions.replicaset.is_available``.

Source: kubernetes/kubernetes pkg/api/v1/pod/util_test.go, TestIsPodAvailable, read as
stored blob 3524892120 of the search index, which gives no commit for it: the version
whose IsPodAvailable compares ``lastTransitionTime + minReadySeconds <= now`` (earlier
versions used ``<``). Inputs and expected outputs are transcribed; the code is ours.

Upstream's ``newPod(now, ready, beforeSec)``: a Ready condition with that status whose
lastTransitionTime is ``beforeSec`` seconds before ``now``.

Fix made for this table: case 5 (ready 51 s, minReadySeconds 51) is available upstream;
the sandbox compared strictly and said not yet.
"""

from __future__ import annotations

import pytest

from slagate.sandbox.decisions.replicaset import PodView, is_available

NOW = 1_000_000.0


def new_pod(ready: bool, before_s: float | None) -> PodView:
    """``before_s`` None: the condition has the zero lastTransitionTime."""
    since = None if before_s is None else NOW - before_s
    return PodView("p", 0.0, ready=ready, ready_since_s=since)


CASES = [
    pytest.param(new_pod(False, 0), 0, False, id="0-not-ready"),
    pytest.param(new_pod(True, 0), 1, False, id="1-ready-now-min-1"),
    pytest.param(new_pod(True, None), 1, False, id="2-no-transition-time-min-1"),
    pytest.param(new_pod(True, 0), 0, True, id="3-ready-now-min-0"),
    pytest.param(new_pod(True, 51), 50, True, id="4-ready-51s-min-50"),
    pytest.param(new_pod(True, 51), 51, True, id="5-ready-51s-min-51"),
    pytest.param(new_pod(True, 51), 52, False, id="6-ready-51s-min-52"),
]


@pytest.mark.parametrize(("pod", "min_ready_s", "expected"), CASES)
def test_is_pod_available(pod: PodView, min_ready_s: int, expected: bool) -> None:
    assert is_available(pod, min_ready_s, NOW) is expected
