"""A live sandbox API server with a ``shop`` namespace, and the harness's own connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from slagate.kube.connecting import KubeConnection, KubeOptions, connect
from slagate.sandbox.apiserver import ApiServer, ApiServerSettings
from slagate.sandbox.apiserver.deleting import GracefulDeletion
from slagate.sandbox.apiserver.store import DEFAULT_EVENT_WINDOW, ObjectStore
from slagate.sandbox.objects.resources import PODS
from tests.kube.objects import NS, Cluster


@pytest.fixture
def event_window() -> int:
    return DEFAULT_EVENT_WINDOW


@pytest.fixture
def store(event_window: int) -> ObjectStore:
    store = ObjectStore(event_window=event_window, namespaces=("default", NS))
    store.set_delete_hook(PODS, GracefulDeletion())
    return store


@pytest.fixture
def server(store: ObjectStore) -> Iterator[ApiServer]:
    with ApiServer(store, settings=ApiServerSettings(liveness_check_s=0.2)) as running:
        yield running


@pytest.fixture
def kubeconfig(server: ApiServer, tmp_path: Path) -> Path:
    return server.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)


@pytest.fixture
def connection(kubeconfig: Path) -> Iterator[KubeConnection]:
    connected = connect(KubeOptions(kubeconfig=kubeconfig))
    yield connected
    connected.close()


@pytest.fixture
def cluster(store: ObjectStore) -> Cluster:
    return Cluster(store)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    path.mkdir()
    return path
