"""The runs of a reports folder (``history``), its index.html (``indexing``) and how
``--baseline latest-pass`` picks a run among them (``lifecycle.resolve_baseline``)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from slagate.errors import ConfigError, ExitCode, TimelineError
from slagate.lifecycle import resolve_baseline
from slagate.report.history import list_runs, read_entry
from slagate.report.indexing import build_index, render_index, write_index
from slagate.report.rendering import PLOTLY_BUNDLE
from slagate.report.summary import Summary, read_summary, write_summary
from slagate.timeline import (
    ClusterInfo,
    RunInfo,
    RunStatus,
    SandboxProfile,
    read_run_info,
    write_run_info,
)
from tests.report.runs import EVIL, VERDICTS, write_run

MINUTE_MS = 60_000


def judged_run(
    reports: Path, name: str, *, minutes: int, code: ExitCode, scenario: str = "rolling-deploy"
) -> Path:
    """A run folder started ``minutes`` after the others' T0, judged ``code``."""
    run = write_run(reports / name, cluster=False)
    info = read_run_info(run)
    update = {"started_ms": info.started_ms + minutes * MINUTE_MS, "scenario_name": scenario}
    write_run_info(run, info.model_copy(update=update))
    p95 = replace(VERDICTS[1], measured=10.0 + minutes)
    write_summary(run, Summary(code, (VERDICTS[0], p95)))
    return run


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    judged_run(folder, "b-pass-old", minutes=1, code=ExitCode.PASSED)
    judged_run(folder, "a-pass-new", minutes=3, code=ExitCode.PASSED)
    judged_run(folder, "c-fail-newest", minutes=5, code=ExitCode.FAILED)
    judged_run(folder, "d-other-scenario", minutes=4, code=ExitCode.PASSED, scenario="smoke")
    (folder / "e-damaged").mkdir()
    (folder / "e-damaged" / "run.json").write_text("{")
    (folder / ".hidden").mkdir()
    (folder / "README.md").write_text("run folders land here")
    (folder / "f-sweep").mkdir()  # slagate sweep's folder: its cells are runs one level down
    (folder / "f-sweep" / "sweep.json").write_text("{}")
    judged_run(folder / "f-sweep", "cell-01", minutes=6, code=ExitCode.PASSED)
    return folder


def test_runs_are_listed_oldest_first_with_damaged_folders_named(reports: Path) -> None:
    entries = list_runs(reports)

    assert [e.run_id for e in entries] == [
        "e-damaged",
        "b-pass-old",
        "a-pass-new",
        "d-other-scenario",
        "c-fail-newest",
    ]
    damaged = entries[0]
    assert damaged.damaged.startswith(f"cannot read {reports / 'e-damaged' / 'run.json'}")
    assert (damaged.exit_code, damaged.passed) == (None, False)


def test_a_scenario_filter_keeps_its_runs_and_the_damaged_folders(reports: Path) -> None:
    names = [e.run_id for e in list_runs(reports, "smoke")]

    assert names == ["e-damaged", "d-other-scenario"]


def test_a_damaged_summary_marks_the_folder_damaged(reports: Path) -> None:
    (reports / "a-pass-new" / "summary.json").write_text("[]")

    entry = read_entry(reports / "a-pass-new")

    assert "not a slagate summary" in entry.damaged and not entry.passed


@pytest.mark.parametrize("folder", ["no-such", "README.md"])
def test_a_reports_folder_that_is_none_is_an_error_naming_it(reports: Path, folder: str) -> None:
    with pytest.raises(TimelineError, match=re.escape(str(reports / folder))):
        list_runs(reports / folder)


def test_latest_pass_is_the_newest_passing_run_of_the_scenario_before_the_judged_one(
    reports: Path,
) -> None:
    newest = reports / "c-fail-newest"
    info = read_run_info(newest)
    before = info.model_copy(update={"started_ms": info.started_ms - 3 * MINUTE_MS})

    found = resolve_baseline("latest-pass", newest, "rolling-deploy", info)
    earlier = resolve_baseline("latest-pass", newest, "rolling-deploy", before)

    assert found is not None and found.run_id == "a-pass-new" and found.timeline is not None
    assert earlier is not None and earlier.run_id == "b-pass-old"


def test_latest_pass_never_picks_the_judged_run_itself_nor_an_aborted_one(reports: Path) -> None:
    old = reports / "b-pass-old"
    info = read_run_info(old)
    write_run_info(old, info.model_copy(update={"status": RunStatus.ABORTED}))
    judged = reports / "a-pass-new"

    late = read_run_info(judged).model_copy(update={"started_ms": 2**62})
    found = resolve_baseline("latest-pass", judged, "rolling-deploy", late)

    assert found is not None and found.timeline is None
    assert found.missing == f"no passing run of rolling-deploy under {reports}"


def test_a_baseline_folder_of_another_scenario_is_refused(reports: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_baseline(
            str(reports / "d-other-scenario"),
            reports / "x",
            "rolling-deploy",
            read_run_info(reports / "a-pass-new"),
        )

    assert "a run of scenario 'smoke', not 'rolling-deploy'" in str(info.value)


def on_sandbox(run: Path, timing: str) -> RunInfo:
    """Make ``run`` a run on a sandbox with the ``timing`` named (and return its info)."""
    info = read_run_info(run)
    profile = SandboxProfile(
        timing=timing,
        timings={"hpa_sync_period_s": 2.0 if timing == "compressed" else 15.0},
        data_plane="per-request",
        endpoint_propagation_delay_s=1.0,
    )
    cluster = ClusterInfo(server="https://127.0.0.1:1", namespace="default", sandbox=True)
    cluster = cluster.model_copy(update={"sandbox_profile": profile})
    write_run_info(run, info.model_copy(update={"cluster": cluster}))
    return read_run_info(run)


def test_a_baseline_under_other_sandbox_timings_is_refused_and_latest_pass_skips_it(
    reports: Path,
) -> None:
    """A ratio between runs on two clocks measures the clocks, not the build."""
    on_sandbox(reports / "a-pass-new", "real-time")
    on_sandbox(reports / "b-pass-old", "compressed")
    judged = on_sandbox(reports / "c-fail-newest", "compressed")

    with pytest.raises(ConfigError) as refused:
        resolve_baseline(
            str(reports / "a-pass-new"), reports / "c-fail-newest", "rolling-deploy", judged
        )
    found = resolve_baseline("latest-pass", reports / "c-fail-newest", "rolling-deploy", judged)

    message = " ".join(str(refused.value).split())
    assert "ran on a sandbox with timing real-time" in message
    assert "this run ran on a sandbox with timing compressed" in message
    assert found is not None and found.run_id == "b-pass-old"  # the newer one ran real-time


def test_the_index_lists_every_run_newest_first_with_links(reports: Path) -> None:
    html = render_index(build_index(str(reports), list_runs(reports)))

    rows = re.findall(r"<tr(?: class=\"damaged\")?>\n<td>([^<]*)</td>", html)
    assert rows == ["c-fail-newest", "d-other-scenario", "a-pass-new", "b-pass-old", "e-damaged"]
    assert '<a href="a-pass-new/report.html">report</a>' not in html  # no report.html written
    assert '<a href="a-pass-new/summary.json">summary.json</a>' in html
    assert "damaged: cannot read" in html
    assert f'<script src="{PLOTLY_BUNDLE}"></script>' in html


def test_each_sla_is_plotted_across_runs_against_its_threshold(reports: Path) -> None:
    view = build_index(str(reports), list_runs(reports, "rolling-deploy"))

    titles = [c.title for c in view.charts]
    assert titles == ["rolling-deploy: availability", "rolling-deploy: p95-under-200ms"]
    measured, threshold = view.charts[1].figure["data"]
    assert measured["x"] == ["b-pass-old", "a-pass-new", "c-fail-newest"]  # plotly_text: same
    assert measured["y"] == [11.0, 13.0, 15.0]
    assert threshold["y"] == [200.0, 200.0, 200.0]


def test_names_from_folders_and_verdicts_appear_only_escaped(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run = judged_run(reports, "r<img src=x onerror=alert(1)>", minutes=0, code=ExitCode.PASSED)
    summary = read_summary(run)
    write_summary(run, replace(summary, verdicts=(replace(VERDICTS[1], id=f"p95{EVIL}"),)))

    path = write_index(reports, list_runs(reports))

    html = path.read_text()
    assert EVIL not in html and "<img src=x" not in html
    assert html.count("</script>") == html.count("<script")
    assert "r%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/summary.json" in html
    figures = re.findall(r'<script type="application/json" id="figure-[\w-]+">(.*?)</script>', html)
    assert "r&lt;img src=x onerror=alert(1)&gt;" in json.dumps([json.loads(f) for f in figures])
    assert "p95&lt;script&gt;alert(1)&lt;/script&gt;</h2>" in html
    assert (reports / PLOTLY_BUNDLE).stat().st_size > 1_000_000  # written once, beside it
