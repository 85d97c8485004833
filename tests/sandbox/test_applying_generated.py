"""Generated manifests: every input applies, or is refused naming file, document and field.

``check_manifests`` is what ``slagate sandbox up`` and ``slagate run --sandbox`` do before
starting anything: the settings file and every object, created in a scratch store (in
process, no sandbox). The property: it returns, and the kubelet and the controllers can
read every object it accepted, or it raises ``ConfigError`` naming the file, and for an object
problem the document (``document N``) and a field path. Any other exception is a bug.
Cases per run (derandomized; about 4 s):

    arbitrary bytes as a manifest file                     60
    arbitrary YAML documents                              100
    mutations of the packaged overlay, deploy/shop/base
      and tests/sandbox/kinds.yaml (config, RBAC, PDB,
      DaemonSet, Ingress, CRD and a custom resource)      250
    mutations of sandbox-settings.yaml                      60
                                                          -----
                                                           470
"""

from __future__ import annotations

import copy
import re
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from slagate.errors import ConfigError
from slagate.sandbox.apiserver.customresources import custom_types
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.applying import (
    DEFAULT_MANIFESTS,
    SETTINGS_FILE,
    apply_manifests,
    check_manifests,
    load_manifests,
)
from slagate.sandbox.controllermanager.disrupting import budget_status
from slagate.sandbox.controllermanager.reading import (
    cpu_request_m,
    deployment_view,
    hpa_spec,
    pod_view,
)
from slagate.sandbox.kubelet.specs import parse_pod_spec
from slagate.sandbox.objects.bodies import mapping_at
from slagate.sandbox.settings import SandboxSettings
from tests.generated import GENERATED, SCALARS, values

REPO = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted(DEFAULT_MANIFESTS.glob("*.yaml")),
    *sorted((REPO / "deploy/shop/base").glob("*.yaml")),
    Path(__file__).with_name("kinds.yaml"),
]
MANIFESTS = [p for p in SOURCES if p.name != SETTINGS_FILE]
FIELDS = [
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "spec", "replicas",
    "selector", "matchLabels", "template", "containers", "image", "ports", "port",
    "resources", "requests", "cpu", "readinessProbe", "httpGet", "path", "minReplicas",
    "maxReplicas", "metrics", "type", "target", "scaleTargetRef", "data", "strategy",
    "stringData", "rules", "verbs", "roleRef", "subjects", "minAvailable", "maxUnavailable",
    "group", "versions", "names", "plural", "served", "storage", "envFrom", "valueFrom",
]  # fmt: skip
KEYS = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
FIELD_PATH = re.compile(
    r"\b(apiVersion|kind|metadata|spec|data|stringData|binaryData|rules|subjects|roleRef"
    r"|[a-z]\w*(\.\w+|\[\d+\]))"
)


def outcome(path: Path, *, object_problem: bool) -> ConfigError | None:
    """Check ``path``'s folder; assert the property; the error, if any. What is accepted
    must also be readable by the kubelet: every pod template parses."""
    try:
        check_manifests([path.parent])
        for created in apply_manifests(ObjectStore(), load_manifests([path.parent])):
            read_as_the_sandbox_does(created)
    except ConfigError as error:
        message = str(error)
        assert str(path.parent) in message, message
        if object_problem and ", line " not in message:  # a YAML mistake has a line instead
            assert re.search(r"document \d+", message), message
            whole = ("expected a mapping", "already exists")  # the object itself is wrong
            if not any(w in message for w in whole):
                assert FIELD_PATH.search(message.split("document", 1)[1]), message
        return error
    return None


def read_as_the_sandbox_does(created: dict[str, Any]) -> None:
    """What the kubelet and the controllers read of an accepted object."""
    kind = created.get("kind")
    template = mapping_at(created, "spec", "template")
    pod = created if kind == "Pod" else {"metadata": {}, **template} if template else None
    if pod is not None:
        parse_pod_spec(pod)
        pod_view(pod)
        cpu_request_m(pod)
    if kind == "Deployment":
        deployment_view(created)
    if kind == "HorizontalPodAutoscaler":
        hpa_spec(created)
    if kind == "PodDisruptionBudget":
        budget_status(created, [], 1, 0.0)
    if kind == "CustomResourceDefinition":
        custom_types(created)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("manifests")


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder / "m", ignore_errors=True)
    (folder / "m").mkdir()
    return folder / "m"


@settings(GENERATED, max_examples=60)
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes(folder: Path, data: bytes) -> None:
    path = fresh(folder) / "bytes.yaml"
    path.write_bytes(data)
    outcome(path, object_problem=False)


@settings(GENERATED, max_examples=100)
@given(documents=st.lists(st.one_of(values(KEYS), st.dictionaries(KEYS, values(KEYS))), max_size=3))
def test_arbitrary_yaml_documents(folder: Path, documents: list[Any]) -> None:
    path = fresh(folder) / "docs.yaml"
    path.write_text(yaml.safe_dump_all(documents, allow_unicode=True))
    outcome(path, object_problem=True)


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        found += _paths(value, (*here, key))
    return found


OUT_OF_RANGE = st.sampled_from(
    [-1, 0, 1e308, float("nan"), float("inf"), 10**30, 2**63, "", "x" * 300, "-5", "1e400m"]
)


@st.composite
def mutated_manifest(draw: st.DrawFn) -> tuple[str, list[Any]]:
    source = draw(st.sampled_from(MANIFESTS))
    documents = [d for d in yaml.safe_load_all(source.read_text()) if d is not None]
    for _ in range(draw(st.integers(1, 3))):
        document = draw(st.sampled_from(documents))
        path = draw(st.sampled_from([p for p in _paths(document) if p]))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["drop", "retype", "range", "unknown", "duplicate"]))
        if how == "drop":
            del parent[path[-1]]
        elif how == "retype":
            parent[path[-1]] = draw(st.one_of(SCALARS, st.just([]), st.just({}), values(KEYS)))
        elif how == "range":
            parent[path[-1]] = draw(OUT_OF_RANGE)
        elif how == "unknown" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(SCALARS)
        elif how == "duplicate":
            documents.append(copy.deepcopy(document))
    return source.name, documents


@settings(GENERATED, max_examples=250)
@given(case=mutated_manifest())
def test_mutated_manifests(folder: Path, case: tuple[str, list[Any]]) -> None:
    name, documents = case
    path = fresh(folder) / name
    path.write_text(yaml.safe_dump_all(documents, allow_unicode=True))
    outcome(path, object_problem=True)


@settings(GENERATED, max_examples=60)
@given(
    change=st.dictionaries(
        st.sampled_from([f.name for f in fields(SandboxSettings)] + ["typo"]),
        st.one_of(SCALARS, OUT_OF_RANGE),
        min_size=1,
        max_size=2,
    )
)
def test_mutated_settings(folder: Path, change: dict[str, Any]) -> None:
    directory = fresh(folder)
    data = yaml.safe_load((DEFAULT_MANIFESTS / SETTINGS_FILE).read_text()) or {}
    data.update(change)
    path = directory / SETTINGS_FILE
    path.write_text(yaml.safe_dump(data))
    outcome(path, object_problem=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "watch_event_window: .inf\n",
            "watch_event_window must be a finite number >= 0, got inf",
            id="infinite-count",
        ),
        pytest.param(
            "hpa_sync_period_s: .nan\n",
            "hpa_sync_period_s must be a finite number >= 0, got nan",
            id="nan-period",
        ),
        pytest.param(
            "hpa_sync_period_s: 1.0e+300\n",
            "hpa_sync_period_s must be at most 86400 s (a day), got 1e+300",
            id="huge-period",
        ),
    ],
)
def test_settings_found_by_generation(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / SETTINGS_FILE).write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_manifests([tmp_path])


def test_ports_that_are_no_list_are_named(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: true}\n"
    )
    with pytest.raises(ConfigError) as info:
        check_manifests([tmp_path])
    assert 'document 1 (Service "web")' in str(info.value)
    assert "spec.ports: Invalid value: True: must be a list" in str(info.value)


def test_template_labels_that_are_no_map_are_named(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: [app]}\n"
        "    spec: {containers: [{name: web, image: shop:1}]}\n"
    )
    with pytest.raises(ConfigError, match=r"spec\.template\.metadata\.labels: Invalid value"):
        check_manifests([tmp_path])


def test_a_manifest_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_bytes(b"apiVersion: v1\nkind: Service # caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        check_manifests([tmp_path])
    assert str(info.value) == (
        f"{tmp_path / 'm.yaml'}, line 2: not valid YAML: not UTF-8 text (byte e9 at offset "
        "34); save the file as UTF-8"
    )


def test_replicas_beyond_int32_are_refused_before_any_pod(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  replicas: 1000000000000000000000000000000\n"
        "  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: shop:1}]}\n"
    )
    with pytest.raises(ConfigError) as info:
        check_manifests([tmp_path])
    assert 'document 1 (Deployment "web")' in str(info.value)
    assert "spec.replicas: Invalid value: 10" in str(info.value)
    assert "must be at most 2147483647 (int32)" in str(info.value)


def test_hpa_behavior_is_validated_as_upstream_does(tmp_path: Path) -> None:
    (tmp_path / "hpa.yaml").write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        "spec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n"
        "  metrics: [null]\n"
        "  behavior:\n    scaleUp: {stabilizationWindowSeconds: 0, policies: 5}\n"
        "    scaleDown: {selectPolicy: Sometimes, policies: [{type: Pods, value: 0}]}\n"
    )
    with pytest.raises(ConfigError) as info:
        check_manifests([tmp_path])
    assert str(info.value).splitlines()[1].split("is invalid: ")[1] == (
        "[spec.metrics[0]: Invalid value: None: must be an object, "
        "spec.behavior.scaleUp.policies: Invalid value: 5: must be a list, "
        "spec.behavior.scaleDown.selectPolicy: Unsupported value: 'Sometimes', "
        "spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than "
        "zero, spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: None: must "
        "be between 1 and 1800, inclusive]"
    )
