from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from slagate.cli import main
from slagate.report import render_report, write_report
from slagate.report.building import build_report
from slagate.report.summary import read_summary
from slagate.timeline import TableWriter, load_timeline
from tests.report.runs import EVIL, KUBECONFIG, PROM_SECRET, SECRET, T0, write_run

STUB_JS = "/* plotly.js */"


WITHOUT_METRICS = Path(__file__).parent / "golden" / "without_metrics.body.html"
SERVER_SIDE_TEXT = ("Prometheus", "Client side vs server side", "optional", "promql")


def _html(run: Path) -> str:
    return render_report(build_report(load_timeline(run), read_summary(run)), STUB_JS)


def _figures(html: str) -> dict[str, object]:
    found = re.findall(r'<script type="application/json" id="figure-([\w-]+)">(.*?)</script>', html)
    return {key: json.loads(text) for key, text in found}


def test_the_report_holds_the_verdicts_and_the_figures(tmp_path: Path) -> None:
    html = _html(write_run(tmp_path / "run", cluster=True))

    for sla_id in ("availability", "p95-under-200ms", "ready-endpoints"):
        assert f"<td>{sla_id}</td>" in html
    assert sorted(_figures(html)) == ["endpoints", "latency", "replicas", "traffic"]
    assert html.count(STUB_JS) == 1


def test_without_cluster_tables_the_charts_are_skipped_with_a_note(tmp_path: Path) -> None:
    html = _html(write_run(tmp_path / "run", cluster=False))

    assert sorted(_figures(html)) == ["latency", "traffic"]
    assert "no endpoints recorded (no cluster)" in html


def test_target_and_cluster_text_appears_only_escaped(tmp_path: Path) -> None:
    html = _html(write_run(tmp_path / "run", cluster=True))

    assert EVIL not in html
    assert "onerror=alert(2)>" not in html
    assert html.count("</script>") == html.count("<script")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the message, the evidence
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    figures = json.dumps(_figures(html))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in figures  # hover text, trace names


def test_no_secret_from_run_json_reaches_the_report(tmp_path: Path) -> None:
    html = _html(write_run(tmp_path / "run", cluster=True))

    assert SECRET not in html
    assert "TOKEN" not in html
    assert KUBECONFIG not in html
    assert "user:pw" not in html


def test_write_report_inlines_plotly_once(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)

    path = write_report(run)

    html = path.read_text()
    assert path == run / "report.html"
    assert html.count("<script>") == 2  # plotly.js, then the code drawing the figures
    assert "Plotly" in html
    assert not list(run.glob(".report.html.*"))


def test_the_report_command_rebuilds_the_report(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)

    result = CliRunner().invoke(main, ["report", str(run)])

    assert result.exit_code == 0
    assert result.output.strip() == str(run / "report.html")
    assert (run / "report.html").exists()


def test_the_report_command_refuses_a_folder_that_is_no_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path)])

    assert result.exit_code == 2
    assert "is not a run folder" in result.output
    assert not (tmp_path / "report.html").exists()


def test_promql_charts_and_the_cross_check_table(tmp_path: Path) -> None:
    html = _html(write_run(tmp_path / "run", cluster=False, prometheus=True))

    assert sorted(_figures(html)) == ["latency", "promql-1", "traffic"]
    assert '<h2>targets-up: min(up)</h2>\n\n<p class="note">no samples: the query' in html
    assert "<h2>Client side vs server side</h2>" in html
    flagged = html.split('<tr class="flagged">\n', 1)[1].split("</tr>", 1)[0]
    assert flagged.splitlines()[:8] == [
        "<td>server-errors</td>",
        '<td class="window">load [0.0 s, 10.0 s]</td>',
        '<td class="num">0.50 %</td>',
        '<td class="num">200</td>',
        '<td class="num">4.00 %</td>',
        '<td class="num">+3.50 pp</td>',
        '<td class="num">1 pp</td>',
        '<td class="fail">differ</td>',
    ]
    assert '<td class="optional">no-data (optional)</td>' in html


def test_the_prometheus_is_shown_without_user_info_and_no_secret_reaches_the_report(
    tmp_path: Path,
) -> None:
    html = _html(write_run(tmp_path / "run", cluster=True, prometheus=True))

    assert "<dt>Prometheus</dt><dd>http://prom.example:9090/ (from the scenario" in html
    assert "Server side: Prometheus at http://prom.example:9090/, from the scenario" in html
    assert PROM_SECRET not in html
    assert "admin" not in html
    assert SECRET not in html
    assert "user:pw" not in html


def test_server_side_text_appears_only_escaped(tmp_path: Path) -> None:
    html = _html(write_run(tmp_path / "run", cluster=False, prometheus=True))

    assert EVIL not in html
    assert html.count("</script>") == html.count("<script")
    assert "differ (&lt;script&gt;alert(1)&lt;/script&gt;)</td>" in html  # a cross-check note
    legend = _figures(html)["promql-1"]["data"][0]["name"]  # type: ignore[index]
    assert legend == "{pod=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;}"


def test_a_run_without_metrics_renders_its_body_as_before_server_side_data(
    tmp_path: Path,
) -> None:
    """Byte for byte: the golden file is the body report.html had before PromQL SLAs
    (only <head>'s CSS grew). After a deliberate change of what such a report shows,
    write the new body there and review its diff."""
    html = _html(write_run(tmp_path / "run", cluster=True))
    body = html.split("<body>", 1)[1]

    for text in SERVER_SIDE_TEXT:
        assert text not in body
    assert body == WITHOUT_METRICS.read_text()


def test_a_names_folded_event_is_a_warning_above_the_verdicts(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", cluster=False)
    writer = TableWriter(run, "load")
    message = (
        f"more than 500 distinct request names (e.g. GET {EVIL}); pass name= in the locustfile"
    )
    writer.append("events", [(T0 + 2_000, "harness", "names_folded", "", message)])
    writer.flush()

    html = _html(run)

    warnings = html.index("<h2>Warnings</h2>")
    assert warnings < html.index("<h2>Verdicts</h2>")
    assert "names_folded: more than 500 distinct request names (e.g. GET &lt;script&gt;" in html
    assert "pass name= in the locustfile" in html[warnings:]
    assert EVIL not in html


def test_a_sandbox_run_names_its_data_plane_and_a_real_cluster_run_none(tmp_path: Path) -> None:
    real = tmp_path / "real"
    sandbox = write_run(tmp_path / "sandbox", cluster=True)
    write_run(real, cluster=True)
    info = json.loads((sandbox / "run.json").read_text())
    profile = {
        "timing": "compressed",
        "timings": {"hpa_sync_period_s": 2.0},
        "data_plane": "kube-proxy",
        "endpoint_propagation_delay_s": 1.0,
        "endpoint_propagation_jitter_s": 0.5,
    }
    info["cluster"].update(sandbox=True, sandbox_profile=profile)
    (sandbox / "run.json").write_text(json.dumps(info))

    shown = _html(sandbox)

    assert "<dt>sandbox</dt><dd>timing compressed" in shown
    assert "data plane kube-proxy (endpoint changes reach the proxy after 1 s to 1.5 s)" in shown
    assert "data plane" not in _html(real)
