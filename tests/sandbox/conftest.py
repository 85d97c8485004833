"""Fixtures for the tests that talk to the sandbox API server (``apiserver/``, ``objects/``):
a live server on loopback and the official client. Names carry an ``api`` or ``sandbox``
prefix: every test folder under this one sees them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config

from slagate.sandbox.apiserver import ApiServer, ApiServerSettings
from slagate.sandbox.apiserver.store import ObjectStore
from tests.sandbox.rawapi import raw_client


@pytest.fixture
def sandbox_store() -> ObjectStore:
    return ObjectStore()


@pytest.fixture
def api_settings() -> ApiServerSettings:
    return ApiServerSettings(liveness_check_s=0.2)


@pytest.fixture
def api_server(sandbox_store: ObjectStore, api_settings: ApiServerSettings) -> Iterator[ApiServer]:
    with ApiServer(sandbox_store, settings=api_settings) as running:
        yield running


@pytest.fixture
def kubeconfig_path(api_server: ApiServer, tmp_path: Path) -> Path:
    return api_server.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def api_client(kubeconfig_path: Path) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(kubeconfig_path), persist_config=False)
    with api:
        yield api


@pytest.fixture
def apps_api(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
def core_api(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def autoscaling_api(api_client: client.ApiClient) -> client.AutoscalingV2Api:
    return client.AutoscalingV2Api(api_client)


@pytest.fixture
def raw_http(api_server: ApiServer) -> Iterator[httpx.Client]:
    """Plain HTTP (over its TLS, with its token), for wire details the typed client hides."""
    with raw_client(api_server, timeout=5.0) as http:
        yield http
