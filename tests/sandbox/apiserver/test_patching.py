"""The three PATCH flavours, as pure functions (no server)."""

from __future__ import annotations

import json
from typing import Any

import jsonpatch
import pytest

from slagate.errors import BadRequest, PatchFailed, UnsupportedMediaType
from slagate.sandbox.apiserver.patching import (
    MERGE,
    apply_json_patch,
    apply_merge_patch,
    apply_patch,
)
from slagate.sandbox.apiserver.strategic import apply_strategic_merge_patch


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        pytest.param({"a": "b"}, {"a": "c"}, {"a": "c"}, id="replace-value"),
        pytest.param({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}, id="add-key"),
        pytest.param({"a": "b"}, {"a": None}, {}, id="null-deletes"),
        pytest.param({"a": ["b"]}, {"a": "c"}, {"a": "c"}, id="list-to-scalar"),
        pytest.param({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}, id="scalar-to-list"),
        pytest.param(
            {"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}, id="nested"
        ),
        pytest.param({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}, id="lists-replace"),
        pytest.param({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}, id="nulls-dropped"),
    ],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, expected: Any) -> None:
    assert apply_merge_patch(target, patch) == expected


def test_json_patch_applies_every_operation_in_order() -> None:
    document = {"spec": {"replicas": 1, "list": [1, 2]}, "metadata": {"labels": {}}}
    operations = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/spec/list/-", "value": 3},
        {"op": "add", "path": "/spec/list/0", "value": 0},
        {"op": "remove", "path": "/spec/list/1"},
        {"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"},
        {"op": "copy", "from": "/spec/replicas", "path": "/spec/copied"},
        {"op": "move", "from": "/spec/copied", "path": "/spec/moved"},
        {"op": "test", "path": "/spec/moved", "value": 3},
    ]
    result = apply_json_patch(document, operations)
    assert result == {
        "spec": {"replicas": 3, "list": [0, 2, 3], "moved": 3},
        "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
    }
    assert document["spec"]["replicas"] == 1


def test_json_patch_can_replace_the_whole_document() -> None:
    assert apply_json_patch({"a": 1}, [{"op": "replace", "path": "", "value": [2]}]) == [2]


@pytest.mark.parametrize(
    ("operations", "error"),
    [
        pytest.param({"op": "add"}, BadRequest, id="not-a-list"),
        pytest.param(["add"], BadRequest, id="operation-not-object"),
        pytest.param([{"op": "remove", "path": "/missing"}], PatchFailed, id="missing-path"),
        pytest.param([{"op": "test", "path": "/a", "value": True}], PatchFailed, id="bool-vs-1"),
        pytest.param([{"op": "add", "path": "/l/5", "value": 1}], PatchFailed, id="index-range"),
        pytest.param([{"op": "jump", "path": "/a"}], PatchFailed, id="unknown-op"),
        pytest.param([{"op": "replace", "path": "/a"}], PatchFailed, id="no-value"),
        pytest.param(
            [{"op": "move", "from": "/l", "path": "/l/0"}], PatchFailed, id="move-into-child"
        ),
    ],
)
def test_json_patch_rejects_bad_operations(operations: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        apply_json_patch({"a": 1, "l": [1]}, operations)


def test_json_patch_errors_are_wrapped_not_leaked() -> None:
    with pytest.raises(PatchFailed) as raised:
        apply_json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])

    assert isinstance(raised.value.__cause__, jsonpatch.JsonPatchTestFailed)
    assert not isinstance(raised.value, AssertionError)
    assert str(raised.value).startswith("the JSON patch cannot apply: ")


def _pod_template() -> dict[str, Any]:
    return {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "shop:1",
                            "env": [{"name": "A", "value": "1"}],
                            "ports": [{"containerPort": 8080, "name": "http"}],
                        },
                        {"name": "sidecar", "image": "proxy:1"},
                    ]
                }
            }
        }
    }


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return containers


def test_strategic_merge_merges_containers_env_and_ports_by_key() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "shop:2",
                            "env": [{"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        },
                    ]
                }
            }
        }
    }
    app, sidecar = _containers(apply_strategic_merge_patch(_pod_template(), patch))
    assert app == {
        "name": "app",
        "image": "shop:2",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
    }
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}


def test_strategic_merge_appends_new_elements_and_deletes_with_directive() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "sidecar", "$patch": "delete"},
                        {"name": "debug", "image": "busybox"},
                    ]
                }
            }
        }
    }
    names = [c["name"] for c in _containers(apply_strategic_merge_patch(_pod_template(), patch))]
    assert names == ["app", "debug"]


def test_strategic_merge_replace_directive_in_a_list_replaces_it() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}
            }
        }
    }
    assert _containers(apply_strategic_merge_patch(_pod_template(), patch)) == [
        {"name": "only", "image": "x"}
    ]


def test_strategic_merge_map_directives() -> None:
    original = {"metadata": {"labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"}}}
    patch = {
        "metadata": {"labels": {"$patch": "replace", "c": "3"}, "annotations": {"$patch": "delete"}}
    }
    assert apply_strategic_merge_patch(original, patch) == {"metadata": {"labels": {"c": "3"}}}


def test_strategic_merge_conditions_merge_by_type() -> None:
    original = {
        "status": {
            "conditions": [
                {"type": "Available", "status": "False"},
                {"type": "Progressing", "status": "True"},
            ]
        }
    }
    patch = {"status": {"conditions": [{"type": "Available", "status": "True"}]}}
    assert apply_strategic_merge_patch(original, patch)["status"]["conditions"] == [
        {"type": "Available", "status": "True"},
        {"type": "Progressing", "status": "True"},
    ]


def test_strategic_merge_service_ports_merge_by_port_and_other_lists_replace() -> None:
    original = {
        "spec": {
            "ports": [{"port": 80, "name": "http"}, {"port": 443}],
            "tolerations": [{"key": "a"}],
        }
    }
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 8080}], "tolerations": [{"key": "b"}]}}
    assert apply_strategic_merge_patch(original, patch) == {
        "spec": {
            "ports": [{"port": 80, "name": "http", "targetPort": 8080}, {"port": 443}],
            "tolerations": [{"key": "b"}],
        }
    }


def test_strategic_merge_primitive_lists_and_retain_keys() -> None:
    original = {
        "metadata": {"finalizers": ["a", "b"]},
        "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
    }
    patch = {
        "metadata": {"finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["a"]},
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}},
    }
    assert apply_strategic_merge_patch(original, patch) == {
        "metadata": {"finalizers": ["b", "c"]},
        "spec": {"strategy": {"type": "Recreate"}},
    }


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param([{"op": "add"}], id="list-body"),
        pytest.param(
            {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
            id="element-without-merge-key",
        ),
        pytest.param({"$patch": "explode"}, id="unknown-directive"),
    ],
)
def test_strategic_merge_rejects_malformed_patches(patch: Any) -> None:
    with pytest.raises((BadRequest, PatchFailed)):
        apply_strategic_merge_patch(_pod_template(), patch)


def test_apply_patch_picks_the_flavour_from_content_type() -> None:
    body = json.dumps({"spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}})
    merged = apply_patch(_pod_template(), body.encode(), f"{MERGE}; charset=utf-8")
    assert _containers(merged) == [{"name": "app"}]


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        pytest.param(b"{nope", "application/merge-patch+json", BadRequest, id="bad-json"),
        pytest.param(b"\xff", "application/json-patch+json", BadRequest, id="bad-utf8"),
        pytest.param(b"{}", "application/apply-patch+yaml", UnsupportedMediaType, id="ssa"),
        pytest.param(b"{}", "text/plain", UnsupportedMediaType, id="unknown"),
    ],
)
def test_apply_patch_refuses_malformed_or_unsupported(
    body: bytes, content_type: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        apply_patch({"a": 1}, body, content_type)
