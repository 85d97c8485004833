"""Generated scenario files: every input is a valid scenario or a located ``ScenarioError``.

The property, for every case: ``load_scenario`` returns a ``Scenario`` that survives being
recorded in run.json and read back, or raises ``ScenarioError`` whose every problem is one
line ``FILE:LINE: [field: ]reason``. Any other exception is a bug. Cases per run
(derandomized, so the same on every run; about 5 s in all on one core):

    arbitrary bytes (invalid UTF-8, BOMs, NULs, UTF-16)       150
    arbitrary YAML values and structures                       150
    YAML features: tags, anchors and aliases, documents         100
    mutations of every scenario in scenarios/                  300
                                                              -----
                                                               700
"""

from __future__ import annotations

import codecs
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from slagate.errors import ScenarioError
from slagate.scenario import SLA_KINDS, Scenario, load_scenario, parse_scenario
from slagate.timeline import RunInfo
from tests.generated import GENERATED, SCALARS, values

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
SOURCE = "gen.yaml"
FIELDS = [
    "name", "load", "shape", "users", "duration", "stages", "slas", "kind", "window",
    "windows", "start", "end", "target", "host", "kubernetes", "actions", "at", "limits",
    "max_users", "abort", "prometheus", "min_percent", "max_ms", "id", "threshold",
]  # fmt: skip
"""Real field names beside random text, so generated mappings reach deep validation."""
KEYS = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
TAGS = [
    "!!python/object:os.system", "!!python/name:os.system", "!!python/object/apply:os.getcwd",
    "!!binary", "!!set", "!!omap", "!!timestamp", "!!float", "!!int", "!!str", "!!null",
    "!!bool", "!custom", "!!map", "!!seq",
]  # fmt: skip


def outcome(load: Any, source: str) -> Scenario | ScenarioError:
    """Load once; assert the property; return what it gave."""
    try:
        scenario = load()
    except ScenarioError as error:
        assert error.problems, "a ScenarioError without a problem"
        for problem in error.problems:
            assert "\n" not in problem, problem
            assert re.match(rf"^{re.escape(source)}(:\d+)?: \S", problem), problem
            assert problem.startswith(f"{source}: cannot read") or re.match(
                rf"^{re.escape(source)}:\d+: ", problem
            ), f"no line: {problem}"
        return error
    assert isinstance(scenario, Scenario)
    recorded = RunInfo(run_id="r", started_ms=0, scenario=scenario).model_dump_json(by_alias=True)
    again = RunInfo.model_validate(json.loads(recorded)).scenario
    assert again is not None
    assert again.model_dump_json(by_alias=True) == scenario.model_dump_json(by_alias=True)
    assert scenario.load.duration_s >= 0 and scenario.load.peak_users >= 0
    assert len({sla.sla_id for sla in scenario.slas}) == len(scenario.slas)
    return scenario


def parsed(text: str) -> Scenario | ScenarioError:
    return outcome(lambda: parse_scenario(text, SOURCE), SOURCE)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


# --- bytes -----------------------------------------------------------------------------------

BOMS = [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]


@settings(GENERATED, max_examples=150)
@given(
    prefix=st.sampled_from(BOMS),
    body=st.one_of(
        st.binary(max_size=200),
        st.sampled_from([p.read_bytes() for p in SCENARIOS]).flatmap(
            lambda good: st.integers(0, len(good)).map(lambda n: good[:n] + b"\x00\xff" + good[n:])
        ),
        st.text(max_size=80).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
)
def test_arbitrary_bytes(folder: Path, prefix: bytes, body: bytes) -> None:
    path = folder / "bytes.yaml"
    path.write_bytes(prefix + body)
    outcome(lambda: load_scenario(path), str(path))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be"])
def test_a_scenario_saved_with_a_byte_order_mark_reads_the_same(
    tmp_path: Path, scenario: Path, encoding: str
) -> None:
    text = scenario.read_text(encoding="utf-8")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    path = tmp_path / scenario.name
    path.write_bytes(data)
    assert load_scenario(path) == load_scenario(scenario)


def test_bytes_that_are_not_utf8_are_named_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: t\ndescription: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        f"{path}:2: not UTF-8 text (byte e9 at offset 24); save the file as UTF-8"
    ]


# --- YAML values -----------------------------------------------------------------------------


@settings(GENERATED, max_examples=150)
@given(document=st.one_of(values(KEYS), st.dictionaries(KEYS, values(KEYS), max_size=6)))
def test_arbitrary_yaml_values(document: Any) -> None:
    parsed(yaml.safe_dump(document, allow_unicode=True))


def _tagged(scenario: str, tag: str, line: int) -> str:
    lines = scenario.splitlines()
    n = line % len(lines)
    key, sep, value = lines[n].partition(": ")
    lines[n] = f"{key}{sep}{tag} {value}" if sep else f"{lines[n]} {tag}"
    return "\n".join(lines) + "\n"


ANCHORS = [
    "name: &n t\ndescription: *n\nload: {shape: constant, users: 1, duration: 1}\n",
    "name: t\nload: &l {shape: constant, users: 1, duration: 1}\nslas: *l\n",
    "name: t\nload: &l [*l]\n",
    "name: t\nload: &l {a: *l}\n",
    "name: t\nload: *undefined\n",
    "base: &b {shape: constant, users: 1}\nname: t\nload: {<<: *b, duration: 1}\n",
    "name: t\nload: {<<: 5}\n",
    "name: t\nslas: &s [&a {kind: availability, min_percent: 99}, *a]\n"
    "load: {shape: constant, users: 1, duration: 1}\n",
    "? [a, b]\n: c\n",
    "? {a: 1}\n: c\n",
]


@settings(GENERATED, max_examples=100)
@given(
    text=st.one_of(
        st.builds(
            _tagged,
            st.sampled_from([p.read_text() for p in SCENARIOS]),
            st.sampled_from(TAGS),
            st.integers(0, 200),
        ),
        st.sampled_from(ANCHORS),
        st.lists(st.sampled_from([p.read_text() for p in SCENARIOS] + ANCHORS), max_size=3).map(
            "---\n".join
        ),
        st.text(max_size=60),
    )
)
def test_yaml_features(text: str) -> None:
    parsed(text)


def test_utf16_without_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes("name: t\n".encode("utf-16-le"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        f"{path}:1: malformed YAML: character #x0000 is not allowed in YAML (UTF-16 without "
        "a byte order mark? save the file as UTF-8)"
    ]


def test_python_tags_are_refused_without_running_anything() -> None:
    found = parsed("name: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert isinstance(found, ScenarioError)
    assert "could not determine a constructor" in found.problems[0]


def test_deep_nesting_is_a_located_problem() -> None:
    found = parsed("name: t\nload: " + "[" * 5000 + "]" * 5000 + "\n")
    assert isinstance(found, ScenarioError)
    assert found.problems == [f"{SOURCE}:1: malformed YAML: values nested too deeply to read"]


# --- mutations of the shipped scenarios ------------------------------------------------------

Path_ = tuple[str | int, ...]


def _paths(node: Any, here: Path_ = ()) -> list[Path_]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*here, i))
    return found


def _parent(data: Any, path: Path_) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


OUT_OF_RANGE = st.sampled_from(
    [-1, 0, -0.5, 1e308, -1e308, float("nan"), float("inf"), -float("inf"), 10**30, 2**63,
     "1e400s", "-5s", "99999h", "", "1.0e+300"]
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> str:
    data = copy.deepcopy(yaml.safe_load(draw(st.sampled_from(SCENARIOS)).read_text()))
    for _ in range(draw(st.integers(1, 3))):
        _mutate(draw, data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _mutate(draw: st.DrawFn, data: dict[str, Any]) -> None:
    how = draw(st.sampled_from(["drop", "retype", "range", "unknown", "dup-id", "window", "kind"]))
    paths = [p for p in _paths(data) if p]
    path = draw(st.sampled_from(paths))
    parent, last = _parent(data, path), path[-1]
    if how == "drop":
        del parent[last]
    elif how == "retype":
        parent[last] = draw(st.one_of(SCALARS, st.just([]), st.just({}), values(KEYS)))
    elif how == "range":
        parent[last] = draw(OUT_OF_RANGE)
    elif how == "unknown":
        target = draw(st.sampled_from([n for n in _nodes(data) if isinstance(n, dict)]))
        target[draw(KEYS)] = draw(SCALARS)
    elif how == "dup-id" and _slas(data):
        data["slas"].append(copy.deepcopy(draw(st.sampled_from(_slas(data)))))
    elif how == "window" and _slas(data):
        start = draw(st.floats(0, 100))
        end = draw(st.sampled_from([start, start - 1, -1, 0]))
        where = draw(st.sampled_from(["sla", "steady"]))
        span = {"start": start, "end": end}
        if where == "sla":
            draw(st.sampled_from(_slas(data)))["window"] = span
        elif isinstance(data.setdefault("windows", {}), dict):
            data["windows"]["steady"] = span
    elif how == "kind" and _slas(data):
        draw(st.sampled_from(_slas(data)))["kind"] = draw(
            st.one_of(st.sampled_from(SLA_KINDS), st.text(max_size=6))
        )


def _slas(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The SLAs still mappings in a list (an earlier mutation may have retyped them)."""
    slas = data.get("slas")
    return [s for s in slas if isinstance(s, dict)] if isinstance(slas, list) else []


def _nodes(node: Any) -> list[Any]:
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return [node, *(n for child in children for n in _nodes(child))]


@settings(GENERATED, max_examples=300)
@given(text=mutated())
def test_mutated_scenarios(text: str) -> None:
    parsed(text)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(
            {"cooldown": 1e300},
            "cooldown: a duration must be at most 86400 s (24h), got 1e+300",
            id="huge-duration",
        ),
        pytest.param(
            {"load": {"shape": "ramp", "end_users": 2, "ramp": 3e9}},
            "load.ramp: a duration must be at most 86400 s (24h), got 3000000000.0",
            id="ramp-of-a-billion-steps",
        ),
        pytest.param(
            {"slas": [{"kind": "latency", "max_ms": float("inf")}]},
            "slas[0].max_ms: Input should be a finite number (got inf)",
            id="infinite-threshold",
        ),
        pytest.param(
            {"slas": [{"kind": "promql", "query": "up", "threshold": float("nan")}]},
            "slas[0].threshold: Input should be a finite number (got nan)",
            id="nan-threshold",
        ),
        pytest.param(
            {"description": "a\0b"},
            "description: a NUL character is not allowed",
            id="nul-in-a-string",
        ),
    ],
)
def test_found_by_generation(change: dict[str, Any], problem: str) -> None:
    data = {"name": "t", "load": {"shape": "constant", "users": 1, "duration": 1}, **change}
    found = parsed(yaml.safe_dump(data))
    assert isinstance(found, ScenarioError)
    assert [p.split(": ", 1)[1] for p in found.problems] == [problem]


def test_counts_sent_to_kubernetes_are_bounded() -> None:
    data = {
        "name": "t",
        "target": {"host": "http://h", "kubernetes": {"allow_mutations_in": ["default"]}},
        "load": {"shape": "constant", "users": 1, "duration": 10},
        "actions": [
            {"kind": "scale", "deployment": "x", "at": 1, "replicas": 10**20},
            {"kind": "delete_pod", "pod": "p", "at": 1, "grace_period": 10**20},
        ],
    }
    found = parsed(yaml.safe_dump(data))
    assert isinstance(found, ScenarioError)
    huge = 10**20
    assert [p.split(": ", 1)[1] for p in found.problems] == [
        f"actions[0].replicas: Input should be less than or equal to 2147483647 (got {huge})",
        f"actions[1].grace_period: Input should be less than or equal to 86400 (got {huge})",
    ]
