"""``slagate check`` on damaged run folders: exit 2 naming the file, and nothing changed.

A real run folder (``tests.report.runs``, two part files in ``events``) is damaged, then
judged through the command line in-process. Where the damage can be seen (a part that
is not Parquet, a run.json that is not slagate's, a summary of a newer slagate) the
check exits 2 with one line naming the file and changes no byte of the folder; where it
cannot (a byte that Parquet does not checksum, a summary.json that is output anyway) the
run is judged (exit 0 or 1) and only what judging writes changes. Never a traceback.

Cases per run (derandomized): 80 generated damages (truncation, flipped bytes,
emptied, replaced, removed; to any file), 80 well-formed parts of generated values (nulls,
negative counts, NaN, times outside the run) and the named cases below; about 15 s.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from slagate.cli import main
from slagate.timeline import SCHEMAS, EventRow, EventSource, Table, append_rows
from tests.generated import GENERATED
from tests.report.runs import T0, write_run

JUDGING_WRITES = {"run.json", "summary.json", "report.html"}
"""What judging writes (run.json gets the resolved windows), besides compacting parts
(which rewrites a compacted table's _parts.txt)."""


def judging_writes(path: str) -> bool:
    return path in JUDGING_WRITES or path.endswith("/_parts.txt")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = write_run(tmp_path_factory.mktemp("recorded") / "run", cluster=True, prometheus=True)
    row = EventRow(T0 + 11_000, EventSource.HARNESS, "run_end", "", "")
    append_rows(run_dir, "lifecycle-run_end", Table.EVENTS, [row])
    return run_dir


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("damaged")


def fingerprint(run_dir: Path) -> dict[str, str]:
    return {
        str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }


def check(run_dir: Path, *options: str) -> Result:
    return CliRunner().invoke(main, ["check", str(run_dir), *options], catch_exceptions=True)


def assert_refused_untouched(run_dir: Path, named: Path, *options: str) -> str:
    """Exit 2 naming ``named``, the folder byte for byte as it was; the message."""
    before = fingerprint(run_dir)
    result = check(run_dir, *options)
    assert isinstance(result.exception, SystemExit | None), result.output
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert str(named) in message
    assert "Traceback" not in result.output
    assert fingerprint(run_dir) == before
    return message


def copy_of(recorded: Path, where: Path) -> Path:
    shutil.rmtree(where, ignore_errors=True)
    return Path(shutil.copytree(recorded, where))


# --- named damages -----------------------------------------------------------------------------


@pytest.fixture
def run_dir(recorded: Path, tmp_path: Path) -> Iterator[Path]:
    yield copy_of(recorded, tmp_path / "run")


def part(run_dir: Path, table: str = "events") -> Path:
    return sorted((run_dir / table).glob("*.parquet"))[0]


def test_a_truncated_part_is_named_and_nothing_is_compacted(run_dir: Path) -> None:
    damaged = part(run_dir)
    damaged.write_bytes(damaged.read_bytes()[:-30])
    message = assert_refused_untouched(run_dir, damaged)
    assert "this part of table events is damaged" in message
    assert "move it out of the folder (and its line out of _parts.txt) to judge the rest" in message


def test_a_damaged_folder_is_refused_before_a_refetch_writes_to_it(run_dir: Path) -> None:
    damaged = part(run_dir)
    damaged.write_bytes(damaged.read_bytes()[:-30])
    nobody = "http://127.0.0.1:9"  # never asked: the folder is refused first
    assert_refused_untouched(run_dir, damaged, "--prometheus-url", nobody)


def test_an_empty_part(run_dir: Path) -> None:
    damaged = part(run_dir, "requests")
    damaged.write_bytes(b"")
    assert_refused_untouched(run_dir, damaged)


def test_a_part_of_another_table(run_dir: Path) -> None:
    damaged = part(run_dir, "requests")
    damaged.write_bytes(part(run_dir, "events").read_bytes())
    assert "is no part of table requests: it has no column" in assert_refused_untouched(
        run_dir, damaged
    )


def test_a_removed_part_is_named_not_judged_as_less_data(run_dir: Path) -> None:
    removed = part(run_dir, "requests")
    removed.unlink()
    message = assert_refused_untouched(run_dir, removed)
    assert f"{removed} is missing: {run_dir / 'requests' / '_parts.txt'} lists it" in message
    assert "remove its line from _parts.txt to judge the rest" in message


def test_a_parts_list_with_a_line_that_names_no_part(run_dir: Path) -> None:
    listing = run_dir / "requests" / "_parts.txt"
    listing.write_text(listing.read_text() + "../../etc/passwd\n")
    assert "line 2 is no part name ('../../etc/passwd')" in assert_refused_untouched(
        run_dir, listing
    )


def test_a_table_folder_that_is_a_file(run_dir: Path) -> None:
    shutil.rmtree(run_dir / "pods")
    (run_dir / "pods").write_text("x")
    message = assert_refused_untouched(run_dir, run_dir / "pods")
    assert "is a file, not the folder of table pods" in message


def test_a_run_json_that_is_not_json(run_dir: Path) -> None:
    (run_dir / "run.json").write_text('{"run_id": "r", "started_')
    assert "restore it from a copy" in assert_refused_untouched(run_dir, run_dir / "run.json")


def test_a_run_json_nested_too_deeply(run_dir: Path) -> None:
    (run_dir / "run.json").write_text("[" * 100_000 + "]" * 100_000)
    assert_refused_untouched(run_dir, run_dir / "run.json")


def test_a_run_json_from_the_future(run_dir: Path) -> None:
    (run_dir / "run.json").write_text('{"schema_version": 2, "run_id": "r", "started_ms": 0}')
    message = assert_refused_untouched(run_dir, run_dir / "run.json")
    assert "written by a newer slagate (run.json schema 2" in message


def test_a_summary_from_the_future_is_not_overwritten(run_dir: Path) -> None:
    (run_dir / "summary.json").write_text('{"schema_version": 2, "exit_code": 0, "verdicts": []}')
    message = assert_refused_untouched(run_dir, run_dir / "summary.json")
    assert "written by a newer slagate (summary schema 2" in message


def test_a_missing_run_json(run_dir: Path) -> None:
    (run_dir / "run.json").unlink()
    assert "run.json is missing" in assert_refused_untouched(run_dir, run_dir)


def test_files_that_cannot_be_opened_as_files(run_dir: Path) -> None:
    """What an unreadable file looks like to root, who reads any file: a folder in its place."""
    damaged = part(run_dir, "requests")
    damaged.unlink()
    damaged.mkdir()
    assert "cannot read" in assert_refused_untouched(run_dir, damaged)
    shutil.rmtree(damaged)
    (run_dir / "run.json").unlink()
    (run_dir / "run.json").mkdir()
    assert "Is a directory" in assert_refused_untouched(run_dir, run_dir / "run.json")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_part(run_dir: Path) -> None:
    damaged = part(run_dir)
    damaged.chmod(0)
    try:
        assert "Permission denied" in assert_refused_untouched(run_dir, damaged)
    finally:
        damaged.chmod(0o644)


def test_the_undamaged_folder_is_judged_and_compacted(run_dir: Path) -> None:
    before = fingerprint(run_dir)
    result = check(run_dir)
    assert (
        result.exit_code,
        result.exception is None or isinstance(result.exception, SystemExit),
    ) == (1, True)
    after = fingerprint(run_dir)
    assert [p for p in after if before.get(p) == after[p] and not judging_writes(p)] == [
        p for p in before if p in after and not judging_writes(p)
    ]
    assert sorted(p.name for p in (run_dir / "events").iterdir()) == [
        "_parts.txt",
        "all-000000.parquet",
    ]
    assert (run_dir / "events" / "_parts.txt").read_text() == "all-000000.parquet\n"


# --- generated damages -------------------------------------------------------------------------


@st.composite
def damages(draw: st.DrawFn, files: list[str]) -> tuple[str, str, int, bytes]:
    name = draw(st.sampled_from(files))
    how = draw(st.sampled_from(["truncate", "flip", "empty", "replace", "remove", "append"]))
    return name, how, draw(st.integers(0, 10_000)), draw(st.binary(min_size=1, max_size=64))


def damage(path: Path, how: str, at: int, data: bytes) -> None:
    content = path.read_bytes()
    at = at % max(len(content), 1)
    if how == "truncate":
        path.write_bytes(content[:at])
    elif how == "flip":
        path.write_bytes(content[:at] + bytes([content[at] ^ 0xFF]) + content[at + 1 :])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "replace":
        path.write_bytes(data)
    elif how == "append":
        path.write_bytes(content + data)
    else:
        path.unlink()


def test_generated_damages(recorded: Path, scratch: Path) -> None:
    files = sorted(fingerprint(recorded))

    @settings(GENERATED, max_examples=80)
    @given(damages(files))
    def damaged_check(case: tuple[str, str, int, bytes]) -> None:
        name, how, at, data = case
        run_dir = copy_of(recorded, scratch / "run")
        damage(run_dir / name, how, at, data)
        before = fingerprint(run_dir)
        result = check(run_dir)
        shown = f"{case}: exit {result.exit_code}\n{result.output}"
        assert isinstance(result.exception, SystemExit | None), shown
        assert "Traceback" not in result.output, shown
        after = fingerprint(run_dir)
        if result.exit_code == 2:
            assert after == before, shown
            assert str(run_dir) in result.stderr, shown
        else:
            assert result.exit_code in (0, 1, 3), shown
            assert "report.html" in after, shown
            kept = [p for p in before if not judging_writes(p) and p in after]
            assert all(after[p] == before[p] for p in kept), shown

    damaged_check()


# --- generated values in whole part files -----------------------------------------------------

INTS = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from([2**62, -(2**62)]))
FLOATS = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -1.0])
)
SECONDS = st.one_of(st.none(), st.integers(T0 // 1000 - 5, T0 // 1000 + 15))
MILLISECONDS = st.one_of(st.none(), st.integers(T0 - 5_000, T0 + 15_000))
TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["", "load_start", "load_stop", "action_start", "rollout_settled",
                     "harness", "kubernetes", "order", "HorizontalPodAutoscaler",
                     "Deployment", "ready", "deleting", "server-errors", "{}"]),
    st.text(max_size=5),
)  # fmt: skip
BY_TYPE = {pa.int64(): INTS, pa.float64(): FLOATS, pa.string(): TEXTS}
TABLES = [Table.REQUESTS, Table.EVENTS, Table.REPLICAS, Table.PODS, Table.ENDPOINTS,
          Table.METRICS, Table.FAILURES, Table.LATENCY]  # fmt: skip


def _column(field: pa.Field) -> st.SearchStrategy[object]:
    if field.name == "t_s":
        return SECONDS
    if field.name == "t_ms":
        return MILLISECONDS
    return BY_TYPE.get(field.type, st.one_of(st.none(), st.booleans()))


@st.composite
def _table_rows(draw: st.DrawFn) -> tuple[Table, list[tuple[object, ...]]]:
    table = draw(st.sampled_from(TABLES))
    row = st.tuples(*(_column(f) for f in SCHEMAS[table]))
    return table, draw(st.lists(row, max_size=6))


def test_generated_values_in_a_well_formed_part(recorded: Path, scratch: Path) -> None:
    """Parquet that reads, holding what no writer writes (nulls in every column, negative
    counts, NaN and infinite latencies, times outside the run): judged, with its report,
    or refused; never a traceback."""

    @settings(GENERATED, max_examples=80)
    @given(case=_table_rows())
    def judged(case: tuple[Table, list[tuple[object, ...]]]) -> None:
        table, rows = case
        run_dir = copy_of(recorded, scratch / "values")
        for old in (run_dir / table).glob("*.parquet"):
            old.unlink()
        append_rows(run_dir, "generated", table, rows)
        result = check(run_dir)
        shown = f"{rows}: exit {result.exit_code}\n{result.output}"
        assert isinstance(result.exception, SystemExit | None), shown
        assert result.exit_code in (0, 1, 2, 3), shown
        if result.exit_code != 2:
            assert (run_dir / "report.html").is_file(), shown

    judged()
