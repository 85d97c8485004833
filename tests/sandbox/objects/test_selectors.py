"""Label and field selectors: the parser, and the server filtering lists with them."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from slagate.errors import BadRequest
from slagate.sandbox.objects.fieldselectors import parse_field_selector
from slagate.sandbox.objects.labelselectors import parse_label_selector, selector_from_object
from slagate.sandbox.objects.resources import PODS
from tests.sandbox.manifests import pod

LABELS = {
    "web-1": {"app": "web", "tier": "front", "rank": "1"},
    "web-2": {"app": "web", "tier": "back", "rank": "5"},
    "db-1": {"app": "db"},
    "bare": {},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("app=web", ["web-1", "web-2"], id="equals"),
        pytest.param("app==db", ["db-1"], id="double-equals"),
        pytest.param("app!=web", ["bare", "db-1"], id="not-equals-includes-unlabelled"),
        pytest.param("tier in (front, middle)", ["web-1"], id="in"),
        pytest.param("tier notin (front)", ["bare", "db-1", "web-2"], id="notin"),
        pytest.param("tier", ["web-1", "web-2"], id="exists"),
        pytest.param("!tier", ["bare", "db-1"], id="does-not-exist"),
        pytest.param("app=web,tier=back", ["web-2"], id="and"),
        pytest.param("rank>2", ["web-2"], id="greater-than"),
        pytest.param("", ["bare", "db-1", "web-1", "web-2"], id="empty"),
    ],
)
def test_label_selector_filters_list(
    core_api: client.CoreV1Api, selector: str, expected: list[str]
) -> None:
    for name, labels in LABELS.items():
        core_api.create_namespaced_pod("default", pod(name, labels))
    pods = core_api.list_namespaced_pod("default", label_selector=selector)
    assert [p.metadata.name for p in pods.items] == expected


def test_field_selectors_on_name_namespace_and_phase(core_api: client.CoreV1Api) -> None:
    core_api.create_namespace({"metadata": {"name": "other"}})
    for namespace, name in (("default", "a"), ("default", "b"), ("other", "a")):
        core_api.create_namespaced_pod(namespace, pod(name))
    core_api.patch_namespaced_pod_status("b", "default", {"status": {"phase": "Running"}})

    by_name = core_api.list_pod_for_all_namespaces(field_selector="metadata.name=a")
    in_other = core_api.list_pod_for_all_namespaces(field_selector="metadata.namespace=other")
    running = core_api.list_namespaced_pod("default", field_selector="status.phase=Running")
    not_running = core_api.list_namespaced_pod("default", field_selector="status.phase!=Running")

    assert [(p.metadata.namespace, p.metadata.name) for p in by_name.items] == [
        ("default", "a"),
        ("other", "a"),
    ]
    assert [p.metadata.name for p in in_other.items] == ["a"]
    assert [p.metadata.name for p in running.items] == ["b"]
    assert [p.metadata.name for p in not_running.items] == ["a"]


def test_unsupported_field_label_is_a_400(core_api: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as raised:
        core_api.list_namespaced_pod("default", field_selector="spec.image=x")
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["message"] == 'field label not supported: "spec.image"'


@pytest.mark.parametrize("text", ["app in (a", "=x", "app=(x)", "app in ()x"])
def test_malformed_label_selector_is_bad_request(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_label_selector(text)


def test_selector_object_round_trips_to_canonical_string() -> None:
    selector = selector_from_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )
    assert str(selector) == "app=web,!canary,tier in (a,b)"
    assert str(parse_label_selector(str(selector))) == "app=web,!canary,tier in (a,b)"


def test_field_selector_unescapes_values() -> None:
    selector = parse_field_selector(r"metadata.name=a\,b", PODS)
    assert selector.matches({"metadata": {"name": "a,b"}})
