"""CustomResourceDefinitions: creating one serves its kind generically (discovery, CRUD,
label selectors, watch) through the official client, kubectl and `apply_manifests`;
deleting it takes its resources along."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from slagate.errors import ConfigError
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.applying import apply_manifests, load_manifests
from slagate.sandbox.objects.selection import Selection

GROUP, PLURAL, NS = "networking.istio.io", "destinationrules", "default"


def crd(scope: str = "Namespaced") -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {"plural": PLURAL, "singular": "destinationrule", "kind": "DestinationRule",
                      "shortNames": ["dr"]},
            "scope": scope,
            "versions": [
                {"name": "v1beta1", "served": True, "storage": False, "schema": schema},
                {"name": "v1", "served": True, "storage": True, "schema": schema,
                 "subresources": {"status": {}}},
                {"name": "v1alpha3", "served": False, "storage": False, "schema": schema},
            ],
        },
    }  # fmt: skip


def rule(name: str, host: str, version: str = "v1", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "DestinationRule",
        "metadata": {"name": name, "labels": labels},
        "spec": {"host": host, "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 5}}},
    }


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    client.ApiextensionsV1Api(api_client).create_custom_resource_definition(crd())
    return client.CustomObjectsApi(api_client)


def test_a_crd_serves_its_kind_in_discovery(
    custom: client.CustomObjectsApi, api_client: client.ApiClient
) -> None:
    groups = {g.name: g for g in client.ApisApi(api_client).get_api_versions().groups}
    assert [v.version for v in groups[GROUP].versions] == ["v1beta1", "v1"]
    resources = custom.get_api_resources(GROUP, "v1").resources
    by_name = {r.name: r for r in resources}
    assert sorted(by_name) == ["destinationrules", "destinationrules/status"]
    assert (by_name[PLURAL].kind, by_name[PLURAL].namespaced) == ("DestinationRule", True)
    assert by_name[PLURAL].short_names == ["dr"]


def test_custom_resources_crud_select_and_watch(custom: client.CustomObjectsApi) -> None:
    for name, team in (("product", "shop"), ("order", "shop"), ("auth", "iam")):
        custom.create_namespaced_custom_object(GROUP, "v1", NS, PLURAL, rule(name, name, team=team))
    listed = custom.list_namespaced_custom_object(
        GROUP, "v1", NS, PLURAL, label_selector="team=shop"
    )
    assert [i["metadata"]["name"] for i in listed["items"]] == ["order", "product"]
    assert (
        custom.get_namespaced_custom_object(GROUP, "v1", NS, PLURAL, "auth")["spec"]["host"]
        == "auth"
    )

    custom.patch_namespaced_custom_object(
        GROUP, "v1", NS, PLURAL, "order", {"spec": {"host": "order.shop.svc"}}
    )
    custom.delete_namespaced_custom_object(GROUP, "v1", NS, PLURAL, "product")
    stream = watch.Watch().stream(
        custom.list_namespaced_custom_object,
        GROUP,
        "v1",
        NS,
        PLURAL,
        label_selector="team=shop",
        resource_version=listed["metadata"]["resourceVersion"],
        timeout_seconds=1,
    )
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in stream]
    assert seen == [("MODIFIED", "order"), ("DELETED", "product")]
    with pytest.raises(ApiException) as unserved:
        custom.list_namespaced_custom_object(GROUP, "v1alpha3", NS, PLURAL)
    assert unserved.value.status == 404


def test_deleting_the_crd_deletes_its_resources_and_stops_serving(
    custom: client.CustomObjectsApi, api_client: client.ApiClient, sandbox_store: ObjectStore
) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", NS, PLURAL, rule("web", "web"))
    (served,) = [t for t in sandbox_store.served_types() if t.custom and t.version == "v1"]
    client.ApiextensionsV1Api(api_client).delete_custom_resource_definition(f"{PLURAL}.{GROUP}")

    with pytest.raises(ApiException) as gone:
        custom.list_namespaced_custom_object(GROUP, "v1", NS, PLURAL)
    assert gone.value.status == 404
    assert sandbox_store.list(Selection(served)).items == []


def test_an_invalid_crd_is_refused_with_its_fields(api_client: client.ApiClient) -> None:
    bad = crd(scope="Everywhere")
    bad["metadata"]["name"] = "rules.example"
    with pytest.raises(ApiException) as refused:
        client.ApiextensionsV1Api(api_client).create_custom_resource_definition(bad)
    causes = json.loads(refused.value.body)["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.scope"]


def test_a_folder_with_a_crd_and_its_resources_applies(tmp_path: Path) -> None:
    (tmp_path / "istio.yaml").write_text(yaml.safe_dump_all([rule("web", "web", "v1beta1"), crd()]))
    store = ObjectStore()

    created = apply_manifests(store, load_manifests([tmp_path]))

    assert [c["kind"] for c in created] == ["CustomResourceDefinition", "DestinationRule"]
    (tmp_path / "istio.yaml").write_text(yaml.safe_dump(rule("web", "web")))
    with pytest.raises(
        ConfigError, match=r"networking\.istio\.io/v1 DestinationRule is served under the istio"
    ):
        load_manifests([tmp_path])


def test_served_versions_share_one_storage(custom: client.CustomObjectsApi) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", NS, PLURAL, rule("web", "web"))
    listed = custom.list_namespaced_custom_object(GROUP, "v1beta1", NS, PLURAL)
    assert [(i["apiVersion"], i["metadata"]["name"]) for i in listed["items"]] == [
        (f"{GROUP}/v1beta1", "web")
    ]
    custom.patch_namespaced_custom_object(
        GROUP, "v1beta1", NS, PLURAL, "web", {"spec": {"host": "web.shop"}}
    )
    stream = watch.Watch().stream(
        custom.list_namespaced_custom_object,
        GROUP,
        "v1",
        NS,
        PLURAL,
        resource_version=listed["metadata"]["resourceVersion"],
        timeout_seconds=1,
    )
    seen = [(e["object"]["apiVersion"], e["object"]["spec"]["host"]) for e in stream]
    assert seen == [(f"{GROUP}/v1", "web.shop")]
