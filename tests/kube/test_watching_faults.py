"""Watch faults: cut streams, an API server restart with its history gone (410), an API
server down for a while (gaps recorded), request counts of a quiet run, prompt stop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from slagate.kube.connecting import KubeConnection
from slagate.kube.watching import ClusterRecorder, RecorderSettings
from slagate.sandbox.apiserver import ApiServer, ApiServerSettings
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.timeline import EventKind, Table
from tests.kube.objects import NS, PODS, Cluster, pod
from tests.kube.polling import eventually, pod_transitions, table

SETTINGS = RecorderSettings(
    flush_interval_s=0.2, retry_initial_s=0.05, retry_max_s=0.2, probe_interval_s=0.2
)
KINDS = (
    "horizontalpodautoscalers",
    "deployments",
    "replicasets",
    "pods",
    "endpointslices",
    "events",
)


Start = Callable[[KubeConnection, Path, ApiServer], ClusterRecorder]


@pytest.fixture
def start() -> Iterator[Start]:
    """Start recorders that are stopped after the test whatever happens."""
    started: list[ClusterRecorder] = []

    def starting(connection: KubeConnection, run_dir: Path, server: ApiServer) -> ClusterRecorder:
        recorder = ClusterRecorder(connection.api_client, NS, run_dir, settings=SETTINGS)
        started.append(recorder.start())
        assert eventually(lambda: server.open_watches, lambda n: n == len(KINDS)) == len(KINDS)
        return recorder

    yield starting
    for recorder in started:
        recorder.stop()


def _transitions(recorder: ClusterRecorder, run_dir: Path, count: int) -> list[tuple[str, str]]:
    return eventually(
        lambda: pod_transitions(table(recorder, run_dir, "pods")), lambda got: len(got) >= count
    )


def test_cut_watches_lose_no_transition(
    start: Start, connection: KubeConnection, server: ApiServer, cluster: Cluster, run_dir: Path
) -> None:
    recorder = start(connection, run_dir, server)
    cluster.create(PODS, pod("a"))
    assert _transitions(recorder, run_dir, 1) == [("a", "added")]

    assert server.cut_watches() == len(KINDS)
    cluster.pod_status("a", "Running", ready=True)
    cluster.create(PODS, pod("b"))
    eventually(lambda: server.open_watches, lambda n: n == len(KINDS))
    server.cut_watches(abrupt=True)
    cluster.start_deleting("a")
    cluster.pod_status("a", "Running", ready=False)
    cluster.remove(PODS, "a")
    cluster.pod_status("b", "Running", ready=True)

    expected = [
        ("a", "added"),
        ("a", "phase"),
        ("a", "ready"),
        ("b", "added"),
        ("a", "deleting"),
        ("a", "unready"),
        ("a", "deleted"),
        ("b", "phase"),
        ("b", "ready"),
    ]
    assert _transitions(recorder, run_dir, len(expected)) == expected
    recorder.stop()
    assert recorder.relists == dict.fromkeys(KINDS, 0)


@pytest.mark.parametrize("event_window", [3])
def test_expired_history_relists_and_records_the_difference(
    start: Start,
    connection: KubeConnection,
    server: ApiServer,
    store: ObjectStore,
    cluster: Cluster,
    run_dir: Path,
) -> None:
    for name in ("a", "b"):
        cluster.create(PODS, pod(name))
        cluster.pod_status(name, "Running", ready=False)
    recorder = start(connection, run_dir, server)
    port = server.port

    server.stop()  # the API server restarts and loses its watch history meanwhile
    cluster.pod_status("a", "Running", ready=True)
    cluster.remove(PODS, "b")
    for name in ("c", "d", "e"):
        cluster.create(PODS, pod(name))
    with _restarted(server, store, port):
        got = _transitions(recorder, run_dir, 7)
        cluster.create(PODS, pod("f"))
        after = _transitions(recorder, run_dir, 8)
        recorder.stop()

    assert got == [
        ("a", "added"),
        ("b", "added"),
        ("a", "ready"),
        ("c", "added"),
        ("d", "added"),
        ("e", "added"),
        ("b", "deleted"),
    ]
    assert after[7:] == [("f", "added")]
    assert recorder.relists["pods"] == 1


def _restarted(server: ApiServer, store: ObjectStore, port: int) -> ApiServer:
    """The API server again on ``port``, with the kubeconfig's token and certificate."""
    settings = ApiServerSettings(port=port, liveness_check_s=0.2)
    return ApiServer(store, settings=settings, token=server.token, certificate=server.certificate)


DOWN_S = 1.0
"""Every watcher fails within this: the first retry is immediate, the next ones 0.05 s to
0.2 s apart (``SETTINGS``)."""


def _gaps(recorder: ClusterRecorder, run_dir: Path) -> dict[str, str]:
    events = table(recorder, run_dir, Table.EVENTS)
    gaps = events[events["kind"] == EventKind.WATCH_GAP]
    assert gaps["name"].is_unique, gaps
    return dict(zip(gaps["name"], gaps["message"], strict=True))


def test_an_api_server_down_for_a_while_is_a_recorded_gap_and_loses_nothing(
    start: Start,
    connection: KubeConnection,
    server: ApiServer,
    store: ObjectStore,
    cluster: Cluster,
    run_dir: Path,
) -> None:
    recorder = start(connection, run_dir, server)
    port = server.port
    server.stop()
    cluster.create(PODS, pod("a"))  # while nobody can watch
    time.sleep(DOWN_S)
    with _restarted(server, store, port) as restarted:
        cluster.create(PODS, pod("b"))
        got = _transitions(recorder, run_dir, 2)
        # every kind watches again (each closes its gap before it reads the stream)
        assert eventually(lambda: restarted.open_watches, lambda n: n == len(KINDS)) == len(KINDS)
        recorder.stop()

    assert got == [("a", "added"), ("b", "added")]
    gaps = _gaps(recorder, run_dir)
    assert set(gaps) == set(KINDS)
    for message in gaps.values():
        lasted = float(message.split("no watch for ", 1)[1].split(" s", 1)[0])
        assert lasted >= DOWN_S / 2, message
        assert "resumed from resourceVersion" in message, message


def test_a_gap_open_when_the_recording_stops_says_so(
    start: Start, connection: KubeConnection, server: ApiServer, run_dir: Path
) -> None:
    recorder = start(connection, run_dir, server)
    server.stop()
    time.sleep(DOWN_S)
    recorder.stop()
    gaps = _gaps(recorder, run_dir)
    assert set(gaps) == set(KINDS)
    assert all(m.endswith("not resumed before the recording stopped") for m in gaps.values())


def test_a_quiet_run_lists_and_watches_each_kind_once(
    start: Start, connection: KubeConnection, server: ApiServer, run_dir: Path
) -> None:
    recorder = start(connection, run_dir, server)
    recorder.stop()
    counts = server.request_counts()
    assert {key: n for key, n in counts.items() if key[1] in ("list", "watch")} == {
        (kind, verb): 1 for kind in KINDS for verb in ("list", "watch")
    }


def test_stop_closes_the_watches_at_once(
    start: Start, connection: KubeConnection, server: ApiServer, run_dir: Path
) -> None:
    recorder = start(connection, run_dir, server)
    started = time.monotonic()
    recorder.stop()
    assert time.monotonic() - started < 1.0
    assert eventually(lambda: server.open_watches, lambda n: n == 0) == 0
    assert not any(w._thread.is_alive() for w in recorder.watchers)


SLOW_S = 3.0
"""How long the API server holds its answers back: three times the ``slow_answer_s``
line (1 s), while an answer takes milliseconds otherwise."""


def test_a_slow_api_server_is_a_recorded_span_and_loses_nothing(
    start: Start, connection: KubeConnection, server: ApiServer, cluster: Cluster, run_dir: Path
) -> None:
    recorder = start(connection, run_dir, server)
    cluster.create(PODS, pod("a"))
    assert _transitions(recorder, run_dir, 1) == [("a", "added")]

    slowed_ms = time.time() * 1000
    server.slow(SLOW_S)
    cluster.create(PODS, pod("b"))  # its watch event is held back with every answer
    cluster.pod_status("b", "Running", ready=True)
    got = _transitions(recorder, run_dir, 4)
    # the next answer after the slowdown is fast again and ends the span
    events = eventually(
        lambda: table(recorder, run_dir, Table.EVENTS),
        lambda frame: EventKind.API_SLOW in set(frame["kind"]),
        timeout_s=SLOW_S + 5,
    )
    recorder.stop()

    assert got == [("a", "added"), ("b", "added"), ("b", "phase"), ("b", "ready")]
    pods = table(recorder, run_dir, Table.PODS)
    received_b_ms = pods.loc[pods["name"] == "b", "t_ms"].min()
    assert received_b_ms >= slowed_ms + SLOW_S * 1000 * 0.9  # held, then delivered
    assert EventKind.WATCH_GAP not in set(events["kind"])  # nothing was cut
    assert recorder.relists == dict.fromkeys(KINDS, 0)
    (span,) = events.loc[events["kind"] == EventKind.API_SLOW].itertuples()
    assert span.name == "apiserver"
    slowest = float(span.message.split("took up to ", 1)[1].split(" s", 1)[0])
    lasted = float(span.message.split(" s to answer for ", 1)[1].split(" s", 1)[0])
    assert slowest >= SLOW_S / 2, span.message  # a probe waited most of the slowdown
    assert lasted >= SLOW_S / 2, span.message
    assert "then fast again" in span.message
