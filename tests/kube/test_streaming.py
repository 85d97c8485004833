"""Watch stream decoding on canned bodies: split lines, BOOKMARK, ERROR events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from slagate.errors import KubernetesError, ResourceExpired
from slagate.kube.streaming import WatchEvent, WatchStream


class _Body:
    """What urllib3 hands out for a chunked watch response, canned."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.released = False

    def stream(self, amt: Any = None, decode_content: bool = False) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        self.released = True


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


def _pod(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": version}}


def test_lines_split_across_chunks_are_joined() -> None:
    body = _line("ADDED", _pod("a", "5")) + _line("BOOKMARK", _pod("", "9"))
    response = _Body([body[:7], body[7:40], body[40:]])
    stream = WatchStream(response, "WATCH pods")
    events = list(stream.events())
    stream.release()
    assert events == [WatchEvent("ADDED", _pod("a", "5")), WatchEvent("BOOKMARK", _pod("", "9"))]
    assert [e.resource_version for e in events] == ["5", "9"]
    assert response.released


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        pytest.param(
            {"code": 410, "reason": "Expired", "message": "too old resource version: 1 (3)"},
            ResourceExpired,
            "WATCH pods: HTTP 410 Expired: too old resource version: 1 (3)",
            id="expired",
        ),
        pytest.param(
            {"code": 500, "message": "etcd is sad"},
            KubernetesError,
            "WATCH pods: the watch failed: HTTP 500: etcd is sad",
            id="other",
        ),
    ],
)
def test_error_events_raise(status: dict[str, Any], error: type[Exception], message: str) -> None:
    stream = WatchStream(
        _Body([_line("ADDED", _pod("a", "5")), _line("ERROR", status)]), "WATCH pods"
    )
    seen: list[WatchEvent] = []
    with pytest.raises(error) as raised:
        seen.extend(stream.events())
    assert seen == [WatchEvent("ADDED", _pod("a", "5"))]
    assert str(raised.value) == message
