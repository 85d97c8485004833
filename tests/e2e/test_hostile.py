"""Hostile strings and planted secrets through real runs (real Locust, real Prometheus).

What the target, the cluster or the scenario says (names, error messages, response bodies,
label values) must reach report.html and the terminal as literal text: no markup, no raw
control characters. Credentials a user passes (headers, a token file, user info in URLs,
a kubeconfig) must reach no file of the run folder and no line of output.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import psutil
import pytest

from tests.e2e.conftest import slagate, start_slagate
from tests.fakes import free_port
from tests.prom.conftest import RunningPrometheus

pytestmark = pytest.mark.e2e

HOSTILE = (
    "<script>alert(1)</script> &amp; &lt; "
    "\x07\x08\r\x1b[31mRED\x1b[0m \x1b]8;;http://127.0.0.1/x\x07link\x1b]8;;\x07 "
    "\x7f\x9b31m [bold red]MARKUP[/] [link=http://127.0.0.1/y]L[/link] \u202eevil"
)
BODY = HOSTILE + " \x00NUL"
"""What the target answers: a NUL too (a scenario file may not hold one: it is refused)."""
RAW_CONTROLS = ("\x00", "\x07", "\x08", "\x1b", "\x7f", "\x9b", "\u202e")

HOSTILE_LOCUSTFILE = """
import slagate.locust_plugin
from locust import HttpUser, constant, task

HOSTILE = {hostile!r}


class Hostile(HttpUser):
    wait_time = constant(0.1)

    @task
    def hostile(self):
        with self.client.get("/hostile", name=HOSTILE, catch_response=True) as response:
            response.failure(response.text)
"""


class _Hostile(BaseHTTPRequestHandler):
    """Answers every GET with 500 and the hostile text as its body."""

    def do_GET(self) -> None:
        body = BODY.encode()
        self.send_response(500)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile_target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_hostile_names_bodies_and_labels_stay_literal_in_the_report_and_terminal(
    tmp_path: Path, hostile_target: str, prometheus: RunningPrometheus
) -> None:
    prometheus.exporter.requests.labels(status=HOSTILE).inc()
    (tmp_path / "hostile.py").write_text(HOSTILE_LOCUSTFILE.format(hostile=HOSTILE))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"name: {json.dumps('../../' + HOSTILE)}\n"
        f"target: {{host: '{hostile_target}'}}\n"
        f"load: {{locustfile: {tmp_path / 'hostile.py'}, shape: constant, users: 2,"
        " duration: 3s}\n"
        "prometheus: {step: 1s}\n"
        "slas:\n"
        "  - {id: no-failures, kind: failed_requests, max: 0}\n"
        f"  - {{id: hostile-endpoint, kind: availability, min_percent: 99,"
        f" endpoint: {json.dumps('GET ' + HOSTILE)}}}\n"
        "  - {id: labels, kind: promql, query: 'sum by (status) (slagate_test_requests_total)',"
        " threshold: 0, op: '>=', window: run}\n"
    )
    reports = tmp_path / "reports"
    done = slagate(
        ["run", str(scenario), "--prometheus-url", prometheus.url, "--reports", str(reports)]
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    (run_dir,) = reports.iterdir()  # the name's ../../ and slashes stay inside reports/
    assert run_dir.resolve().parent == reports.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.py", "reports", "s.yaml"]

    html = (run_dir / "report.html").read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &amp;lt;" in html  # the title
    assert '"name":"{status=&quot;&lt;script&gt;alert(1)' in html  # the label, in a legend
    assert [c for c in RAW_CONTROLS if c in html] == []
    assert "\\x1b[31mRED" in html  # shown, not swallowed

    # not a TTY: rich writes no escapes of its own, so any control character is the input's
    assert [c for c in RAW_CONTROLS if c in output] == []
    assert "[bold red]MARKUP[/]" in output  # printed as written, not interpreted
    assert "[link=http://127.0.0.1/y]L[/link]" in output
    assert "\\x1b[31mRED" in output


SECRETS = {
    "header authorization": "SECRET-hdr-auth-7f3a",
    "header cookie": "SECRET-hdr-cookie-91c2",
    "header org": "SECRET-hdr-org-44d0",
    "bearer token file": "SECRET-token-e8a1",
    "prometheus url password": "SECRET-prom-pw-5b1e",
    "host url password": "SECRET-host-pw-0c7d",
    "service url password": "SECRET-svc-pw-3d9f",
}
KUBE_SECRETS = {
    "kubeconfig token": "SECRET-kube-token-a9c4",
    "kubeconfig password": "SECRET-kube-pw-6e2b",
    "kubeconfig client key": "SECRET-kube-key-1f8d",
    "kubeconfig server password": "SECRET-kube-server-pw-27aa",
}

SECRETS_LOCUSTFILE = """
import slagate.locust_plugin
from locust import HttpUser, constant, task
from slagate.locust_plugin import service_url


class Probe(HttpUser):
    wait_time = constant(0.2)

    @task
    def healthy(self):
        self.client.get("/-/healthy")

    @task
    def missing(self):  # 404s from a service URL that carries user info
        self.client.get(service_url(self.environment, "api") + "/no-such-page")
"""


def _with_user_info(url: str, user: str, password: str) -> str:
    return url.replace("://", f"://{user}:{password}@", 1)


def _leaks(secrets: dict[str, str], texts: dict[str, str]) -> list[tuple[str, str]]:
    """(which secret, where) for every planted secret found in a text, or its base64."""
    found = []
    for what, secret in secrets.items():
        encoded = base64.b64encode(secret.encode()).decode()
        for where, text in texts.items():
            if secret in text or encoded in text:
                found.append((what, where))
    return found


def _run_folder_texts(run_dir: Path) -> dict[str, str]:
    """Every file's bytes as text, and every table's values (Parquet compresses)."""
    texts = {
        str(p.relative_to(run_dir)): p.read_bytes().decode("latin-1")
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }
    for table in sorted({p.parent for p in run_dir.rglob("*.parquet")}):
        texts[f"{table.name} (values)"] = pd.read_parquet(table).to_csv()
    return texts


def test_no_planted_secret_reaches_the_run_folder_or_the_output(
    tmp_path: Path, prometheus: RunningPrometheus
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(SECRETS["bearer token file"] + "\n")
    (tmp_path / "probe.py").write_text(SECRETS_LOCUSTFILE)
    host = _with_user_info(prometheus.url, "loaduser", SECRETS["host url password"])
    service = _with_user_info(prometheus.url, "svcuser", SECRETS["service url password"])
    prom_url = _with_user_info(prometheus.url, "promuser", SECRETS["prometheus url password"])
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: secrets\n"
        f"target: {{host: '{host}'}}\n"
        f"load: {{locustfile: {tmp_path / 'probe.py'}, shape: constant, users: 2, duration: 3s}}\n"
        f"prometheus:\n  url: '{prom_url}'\n  step: 1s\n"
        f"  bearer_token_file: {token_file}\n"
        "  headers:\n"
        f"    Authorization: 'Basic {SECRETS['header authorization']}'\n"
        f"    Cookie: 'session={SECRETS['header cookie']}'\n"
        f"    X-Scope-OrgID: '{SECRETS['header org']}'\n"
        "slas:\n"
        "  - {kind: promql, id: up, query: 'max(up)', op: '>=', threshold: 1, window: run}\n"
        "  - {id: no-failures, kind: failed_requests, max: 0}\n"
    )
    run_dir = tmp_path / "reports" / "run"
    args = ["run", str(scenario), "--service", f"api={service}", "--run-dir", str(run_dir)]
    done, command_lines = _run_reading_command_lines(args, tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr  # the 404s fail no-failures
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [v["status"] for v in summary["verdicts"]] == ["pass", "fail"]  # Prometheus answered
    assert any("slagate.load" in line for line in command_lines), command_lines
    texts = {"stdout": done.stdout, "stderr": done.stderr, **_run_folder_texts(run_dir)}
    texts["command lines (/proc/PID/cmdline, as ps shows them)"] = "\n".join(command_lines)
    assert {"run.json", "summary.json", "report.html", "load.log"} <= set(texts)
    assert _leaks(SECRETS, texts) == []


def _run_reading_command_lines(
    args: list[str], folder: Path
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``slagate ARGS`` in the background; while it runs, the command line of every
    process it started, read from ``/proc/PID/cmdline`` every 50 ms (what ``ps`` shows any
    local user). Its own is left out: ARGS are what the user chose to show; so is a child
    caught between fork and exec, which still shows its parent's command line."""
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    seen: set[str] = set()
    with out.open("w") as stdout, err.open("w") as stderr:
        controller = start_slagate(args, stdout, stderr)
        own = _command_lines([controller.pid])
        try:
            deadline = time.monotonic() + 120
            while controller.poll() is None and time.monotonic() < deadline:
                seen |= _command_lines(_descendants(controller.pid)) - own
                time.sleep(0.05)
        finally:
            if controller.poll() is None:
                controller.kill()
            controller.wait()
    done = subprocess.CompletedProcess(
        args, controller.returncode, out.read_text(), err.read_text()
    )
    return done, sorted(seen)


def _descendants(pid: int) -> list[int]:
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _command_lines(pids: list[int]) -> set[str]:
    lines = set()
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        lines.add(raw.replace(b"\0", b" ").decode(errors="replace").strip())
    return lines


def test_no_kubeconfig_credential_reaches_the_output(tmp_path: Path) -> None:
    """Every credential a kubeconfig can hold is loaded; its API server refuses the
    connection, so the run stops before any load with messages naming the server."""
    key = base64.b64encode(KUBE_SECRETS["kubeconfig client key"].encode()).decode()
    closed = f"http://127.0.0.1:{free_port()}"
    server = _with_user_info(closed, "kubeuser", KUBE_SECRETS["kubeconfig server password"])
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: '{server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u, namespace: shop}}]\n"
        "users: [{name: u, user: {"
        f"token: {KUBE_SECRETS['kubeconfig token']}, username: admin,"
        f" password: {KUBE_SECRETS['kubeconfig password']}, client-key-data: {key}}}}}]\n"
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: kube\ntarget: {host: 'http://127.0.0.1:9'}\n"
        "load: {shape: constant, users: 1, duration: 1s}\n"
    )
    reports = tmp_path / "reports"
    done = slagate(
        ["run", str(scenario), "--kubeconfig", str(kubeconfig), "--reports", str(reports)]
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cluster {closed} namespace shop" in done.stderr  # connected, then refused
    assert "Traceback" not in done.stderr
    texts = {"stdout": done.stdout, "stderr": done.stderr}
    texts |= {str(p): p.read_bytes().decode("latin-1") for p in reports.rglob("*") if p.is_file()}
    assert _leaks(KUBE_SECRETS, texts) == []
