"""Manifests and settings files into the sandbox: what is applied, and every clear refusal."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from slagate.errors import ConfigError
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.applying import (
    DEFAULT_MANIFESTS,
    ISTIO_CRDS,
    apply_manifests,
    check_manifests,
    load_for,
    load_manifests,
    load_settings,
)
from slagate.sandbox.objects.resources import DEPLOYMENTS, NAMESPACES, SERVICES
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import DataPlane

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "deploy/shop/base"

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
BAD_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers: [{name: web, image: shop:1}]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_the_overlay_applies_with_its_settings() -> None:
    settings = check_manifests([DEFAULT_MANIFESTS])

    store = ObjectStore()
    created = apply_manifests(store, load_manifests([DEFAULT_MANIFESTS]))

    assert sorted((obj["kind"], obj["metadata"]["name"]) for obj in created) == [
        ("Deployment", "order"),
        ("Deployment", "product"),
        ("HorizontalPodAutoscaler", "order"),
        ("Service", "order"),
        ("Service", "product"),
    ]
    assert (settings.hpa_sync_period_s, settings.metrics_resolution_s) == (2.0, 2.0)
    assert settings.endpoint_propagation_delay_s == 1.0


def test_the_packaged_overlay_is_what_deploy_shop_sandbox_shows() -> None:
    names = ["order-hpa.yaml", "order.yaml", "product.yaml", "sandbox-settings.yaml"]

    assert (REPO / "deploy/shop/sandbox").resolve() == DEFAULT_MANIFESTS.resolve()
    assert sorted(p.name for p in DEFAULT_MANIFESTS.iterdir()) == names


def overlay_prestops() -> dict[str, float]:
    found = {}
    for manifest in load_manifests([DEFAULT_MANIFESTS]):
        if manifest.resource is DEPLOYMENTS:
            container = manifest.body["spec"]["template"]["spec"]["containers"][0]
            found[manifest.where] = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    return found


@pytest.mark.parametrize("plane", [p for p in DataPlane if not p.load_balancer])
def test_the_overlay_prestop_outlasts_the_routing_delay(plane: DataPlane) -> None:
    settings = replace(load_settings([DEFAULT_MANIFESTS]), data_plane=plane)
    for where, prestop_s in overlay_prestops().items():
        assert prestop_s > settings.routing_delay_s, where


@pytest.mark.parametrize("plane", [p for p in DataPlane if p.load_balancer])
def test_behind_a_load_balancer_the_overlay_prestop_is_too_short(plane: DataPlane) -> None:
    """The issue's point: a preStop long enough for kube-proxy is not for an ALB or NLB
    (compressed: 7 s and 10 s of deregistration propagation against the shop's 2 s)."""
    group = replace(load_settings([DEFAULT_MANIFESTS]), data_plane=plane).target_group
    assert group is not None
    for where, prestop_s in overlay_prestops().items():
        assert prestop_s * 3 < group.deregistration_propagation_s, where


def hpa_spec(directory: Path) -> dict[str, Any]:
    [manifest] = load_manifests([directory / "order-hpa.yaml"])
    spec: dict[str, Any] = manifest.body["spec"]
    return spec


def test_the_overlay_hpa_is_judged_by_the_algorithm_base_meets_on_a_cluster() -> None:
    """No ``behavior`` in either: the sandbox's HPA takes upstream's path without one, on
    the clock of its timing setting. The one documented difference is the target (30%
    against 15%, with the order service's CPU per request scaled alike)."""
    base, overlay = hpa_spec(BASE), hpa_spec(DEFAULT_MANIFESTS)

    assert "behavior" not in base
    assert "behavior" not in overlay
    targets = [spec["metrics"][0]["resource"]["target"] for spec in (base, overlay)]
    assert [t["averageUtilization"] for t in targets] == [15, 30]
    for target in targets:
        del target["averageUtilization"]
    assert base == overlay


def test_the_base_is_refused_for_its_database_statefulset_by_name() -> None:
    """The base runs the shop on a PostgreSQL StatefulSet (its Secret is served); the
    sandbox runs no StatefulSets and keeps the shop on SQLite (its own overlay)."""
    with pytest.raises(ConfigError) as caught:
        check_manifests([BASE])

    assert str(caught.value).startswith(f"{BASE / 'postgres.yaml'}, document 2: kind: ")
    assert "apps/v1 StatefulSet is not served by the sandbox" in str(caught.value)


def test_namespaces_are_created_before_what_lives_in_them(tmp_path: Path) -> None:
    write(tmp_path, "a-service.yaml", SERVICE)
    write(tmp_path, "b-namespace.yaml", NAMESPACE)
    store = ObjectStore()

    apply_manifests(store, load_manifests([tmp_path]))

    assert [s["metadata"]["name"] for s in store.list(Selection(SERVICES, "shop")).items] == ["web"]
    assert "shop" in [n["metadata"]["name"] for n in store.list(Selection(NAMESPACES)).items]


def test_an_invalid_object_names_file_document_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path, "web.yaml", SERVICE.replace("  namespace: shop\n", "") + "---\n" + BAD_DEPLOYMENT
    )

    with pytest.raises(ConfigError) as caught:
        check_manifests([path])

    assert str(caught.value) == (
        f'{path}, document 2 (Deployment "web"):\n'
        '  Deployment.apps "web" is invalid: spec.template.metadata.labels: '
        "Invalid value: {'app': 'other'}: `selector` does not match template `labels`"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("- a\n- b\n", "document 1: expected a mapping", id="not-a-mapping"),
        pytest.param(
            "kind: Service\n", "document 1: apiVersion: Required value", id="no-api-version"
        ),
        pytest.param("apiVersion: v1\n", "document 1: kind: Required value", id="no-kind"),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata: {}\n",
            "document 1 (Service): metadata.name: Required value",
            id="no-name",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n"
            "apiVersion: cert-manager.io/v1\nkind: Certificate\n",
            "document 2: kind: cert-manager.io/v1 Certificate is not served by the sandbox",
            id="unknown-kind",
        ),
        pytest.param("a: [1, 2\nb: c\n", ", line 2: not valid YAML", id="yaml-syntax"),
        pytest.param(
            NAMESPACE.replace("shop", "other") + "---\n" + SERVICE,
            'document 2 (Service "web"):\n  namespaces "shop" not found',
            id="unknown-namespace",
        ),
    ],
)
def test_refusals_name_the_file_and_document(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.yaml", text)

    with pytest.raises(ConfigError) as caught:
        check_manifests([path])

    assert str(caught.value).startswith(f"{path}")
    assert message in str(caught.value)


def test_a_missing_manifest_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"manifests: .*/nothing-here does not exist"):
        load_manifests([tmp_path / "nothing-here"])


def test_settings_come_from_sandbox_settings_yaml_and_are_checked(tmp_path: Path) -> None:
    write(tmp_path, "sandbox-settings.yaml", "hpa_sync_period_s: 3\n")
    assert load_settings([tmp_path]).hpa_sync_period_s == 3.0
    assert load_manifests([tmp_path]) == []  # the settings file is no manifest

    write(tmp_path, "sandbox-settings.yaml", "hpa_sync_period: 3\n")
    with pytest.raises(ConfigError, match="unknown sandbox setting"):
        load_settings([tmp_path])


def test_directories_without_settings_get_upstream_defaults(tmp_path: Path) -> None:
    assert load_settings([tmp_path]).hpa_sync_period_s == 15.0


def test_the_data_plane_comes_from_the_settings_and_adds_its_jitter(tmp_path: Path) -> None:
    write(tmp_path, "sandbox-settings.yaml", "data_plane: kube-proxy\n")
    settings = load_settings([tmp_path])

    assert settings.data_plane is DataPlane.KUBE_PROXY
    assert settings.routing_delay_s == 2.0  # upstream defaults: 1 s delay + 1 s min sync
    assert replace(settings, data_plane=DataPlane.PER_REQUEST).routing_delay_s == 1.0


def test_an_unknown_data_plane_names_the_file_the_value_and_the_valid_ones(
    tmp_path: Path,
) -> None:
    write(tmp_path, "sandbox-settings.yaml", "data_plane: iptables\n")

    with pytest.raises(ConfigError) as refused:
        load_settings([tmp_path])

    assert str(refused.value) == (
        f"{tmp_path / 'sandbox-settings.yaml'}: data_plane: unknown data plane 'iptables'; "
        "valid: per-request, kube-proxy, istio, aws-alb, aws-nlb"
    )


RULE = """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: product}
spec: {host: product, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1}}}
"""


def test_the_istio_data_plane_brings_the_crds_its_rules_need(tmp_path: Path) -> None:
    (tmp_path / "rule.yaml").write_text(RULE)
    store = ObjectStore()

    created = apply_manifests(store, load_for([tmp_path], DataPlane.ISTIO))

    kinds = [(o["kind"], o["metadata"]["name"]) for o in created]
    assert kinds == [
        ("CustomResourceDefinition", "destinationrules.networking.istio.io"),
        ("CustomResourceDefinition", "virtualservices.networking.istio.io"),
        ("DestinationRule", "product"),
    ]


def test_without_istio_a_destination_rule_is_refused_naming_its_kind(tmp_path: Path) -> None:
    (tmp_path / "rule.yaml").write_text(RULE)

    with pytest.raises(ConfigError) as refused:
        check_manifests([tmp_path], data_plane=DataPlane.PER_REQUEST)

    said = str(refused.value)
    assert "kind: networking.istio.io/v1beta1 DestinationRule is served under the istio" in said
    assert "choose data_plane istio (--data-plane, " in said


def test_manifests_that_define_the_istio_crds_keep_theirs(tmp_path: Path) -> None:
    (tmp_path / "crds.yaml").write_text(ISTIO_CRDS.read_text())

    manifests = load_for([tmp_path], DataPlane.ISTIO)

    assert [m.path for m in manifests] == [tmp_path / "crds.yaml"] * 2
