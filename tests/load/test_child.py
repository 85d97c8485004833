"""Real Locust against a real HTTP server on loopback: the load child and the plugin.

The server is a small in-process stand-in for the shop (products and orders in memory,
``/`` answers 200, ``/fail`` 500). Locust always runs in a subprocess: importing it here
would monkey-patch the test process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from slagate.load.recorder import OVERFLOW_NAME
from slagate.timeline import RUN_INFO, Table, load_timeline, read_run_info, read_table
from tests.fakes import fill_disk, small_disk

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 40

PROBE = """
import slagate.locust_plugin
from locust import FastHttpUser, constant, task

class Probe(FastHttpUser):
    wait_time = constant(0.05)

    @task(9)
    def ok(self):
        self.client.get("/")

    @task({fail_weight})
    def fail(self):
        self.client.get("/fail")
"""


class StandInShop(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body go out apart: no 40 ms delayed-ACK stall
    ids = count(1)
    lock = threading.Lock()
    products: dict[int, dict[str, Any]] = {}
    orders: dict[str, dict[str, Any]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path, _, _query = self.path.partition("?")
        parts = path.strip("/").split("/")
        with self.lock:
            if path == "/":
                self.reply(200, {"ok": True})
            elif parts == ["products"]:
                items = list(self.products.values())[-20:]
                self.reply(200, {"items": items, "limit": 20, "offset": 0})
            elif parts[0] == "products" and int(parts[1]) in self.products:
                self.reply(200, self.products[int(parts[1])])
            elif parts[0] == "orders" and parts[1] in self.orders:
                self.reply(200, self.orders[parts[1]])
            else:
                self.reply(500 if path == "/fail" else 404, {"detail": "no"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        parts = self.path.strip("/").split("/")
        with self.lock:
            if parts == ["products"]:
                product = {"id": next(self.ids), **body}
                self.products[product["id"]] = product
                self.reply(201, product)
            elif parts == ["orders"]:
                order = {"id": f"o{next(self.ids)}", **body, "status": "created"}
                self.orders[order["id"]] = order
                self.reply(201, order)
            elif parts[0] == "orders" and parts[-1] == "cancel" and parts[1] in self.orders:
                self.orders[parts[1]]["status"] = "cancelled"
                self.reply(200, self.orders[parts[1]])
            else:
                self.reply(404, {"detail": "no"})

    def reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), StandInShop)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def constant(users: int, duration: str, more: str = "") -> str:
    load = f"{{locustfile: probe.py, shape: constant, users: {users}, duration: {duration}}}"
    return f"load: {load}\n{more}"


def write_scenario(tmp_path: Path, host: str, body: str, fail_weight: int = 1) -> Path:
    (tmp_path / "probe.py").write_text(PROBE.format(fail_weight=fail_weight))
    path = tmp_path / "scenario.yaml"
    path.write_text(f"name: probe\ntarget: {{host: {host}}}\n" + body)
    return path


def child(tmp_path: Path, scenario: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "slagate.load", "--scenario", str(scenario)]
    argv += ["--run-dir", str(tmp_path / "run"), "--flush-interval", "1", *extra]
    return subprocess.Popen(
        argv,
        cwd=tmp_path,
        stdin=subprocess.PIPE if "--commands-on-stdin" in extra else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def last_progress(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return [m for m in lines if m["type"] == "progress"][-1]


def the_end(lines: list[dict[str, Any]]) -> dict[str, Any]:
    (end,) = [m for m in lines if m["type"] == "end"]
    return end


def table(tmp_path: Path, name: Table) -> Any:
    """A table the child wrote, in time order (it writes no run.json: the controller does)."""
    return read_table(tmp_path / "run", name).sort_values(
        "t_s" if name in (Table.REQUESTS, Table.LATENCY) else "t_ms", kind="stable"
    )


def kinds(events: Any) -> list[str]:
    return list(events.sort_values("t_ms", kind="stable")["kind"])


def test_child_records_a_constant_load_matching_its_progress_stream(
    tmp_path: Path, server: str
) -> None:
    scenario = write_scenario(tmp_path, server, constant(4, "5s", "drain: 1s\n"))
    proc = child(tmp_path, scenario)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, err
    lines = messages(out)
    final = last_progress(lines)
    requests, events = table(tmp_path, Table.REQUESTS), table(tmp_path, Table.EVENTS)
    failures = table(tmp_path, Table.FAILURES)
    assert final["requests"] > 50
    assert requests["requests"].sum() == final["requests"]
    assert requests["failures"].sum() == final["failures"] > 0
    assert len(failures) == final["failures"]
    assert table(tmp_path, Table.LATENCY)["requests"].sum() == final["requests"]
    assert set(requests["name"]) == {"/", "/fail"}
    assert set(failures["status"]) == {500}
    streamed = [m["kind"] for m in lines if m["type"] == "event"]
    assert streamed == ["users", "load_start", "spawn_complete", "load_stop", "locust_totals"]
    assert kinds(events) == streamed
    assert events["message"].tolist()[-2] == "finished"
    assert (
        events["message"].tolist()[-1]
        == f"requests={final['requests']} failures={final['failures']}"
    )
    assert the_end(lines) == {"type": "end", "status": "completed", "reason": None}
    assert not (tmp_path / "run" / RUN_INFO).exists()
    # the rows streamed as collected are the rows the run folder keeps, none missing
    rows = [m for m in lines if m["type"] == "rows"]
    streamed_latency = sorted(tuple(r) for m in rows if m["final"] for r in m["latency"])
    kept = table(tmp_path, Table.LATENCY).itertuples(index=False, name=None)
    assert streamed_latency == sorted(kept)
    counts = sorted((r[0], r[2], r[3], r[4]) for m in rows if m["final"] for r in m["requests"])
    assert counts == sorted(
        zip(
            requests["t_s"],
            requests["name"],
            requests["requests"],
            requests["failures"],
            strict=True,
        )
    )
    assert any(not m["final"] for m in rows)  # and the just-ended seconds went ahead
    load_ms = events["t_ms"].iloc[-2] - events["t_ms"].iloc[1]
    assert 5000 <= load_ms < 7500


def test_sigterm_stops_the_child_keeping_the_data(tmp_path: Path, server: str) -> None:
    scenario = write_scenario(tmp_path, server, constant(4, "30s", "drain: 1s\n"))
    proc = child(tmp_path, scenario)
    assert proc.stdout is not None
    seen = [json.loads(proc.stdout.readline()) for _ in range(4)]  # 3 events, then progress
    assert seen[-1]["type"] == "progress"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 3, err
    lines = seen + messages(out)
    final = last_progress(lines)
    assert final["requests"] > 0
    assert table(tmp_path, Table.REQUESTS)["requests"].sum() == final["requests"]
    assert the_end(lines) == {"type": "end", "status": "aborted", "reason": "stopped by SIGTERM"}
    assert table(tmp_path, Table.EVENTS)["message"].tolist()[-2] == "signal"


def test_a_stop_command_on_stdin_stops_the_load_as_a_safety_stop(
    tmp_path: Path, server: str
) -> None:
    scenario = write_scenario(tmp_path, server, constant(4, "30s", "drain: 1s\n"))
    proc = child(tmp_path, scenario, "--commands-on-stdin")
    assert proc.stdout is not None and proc.stdin is not None
    while json.loads(proc.stdout.readline())["type"] != "progress":
        pass
    stop = {"type": "stop", "rule": "abort_on_fail", "message": "SLA budget breached"}
    proc.stdin.write(json.dumps(stop) + "\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 3, err
    assert the_end(messages(out)) == {
        "type": "end",
        "status": "aborted",
        "reason": "SLA budget breached",
    }
    events = table(tmp_path, Table.EVENTS)
    abort = events[events["kind"] == "abort"]
    assert list(zip(abort["name"], abort["message"], strict=True)) == [
        ("abort_on_fail", "SLA budget breached")
    ]
    assert events["message"].tolist()[-2] == "abort"


def test_abort_rule_stops_a_failing_load(tmp_path: Path, server: str) -> None:
    rule = "abort: {max_failure_ratio: 0.5, over: 2s, min_requests: 5}\n"
    scenario = write_scenario(tmp_path, server, constant(4, "30s", rule), fail_weight=90)
    proc = child(tmp_path, scenario)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 3, err
    lines = messages(out)
    abort = [m for m in lines if m["type"] == "event" and m["kind"] == "abort"]
    assert [m["name"] for m in abort] == ["max_failure_ratio"]
    end = the_end(lines)
    assert end["status"] == "aborted"
    assert "abort.max_failure_ratio 0.5" in end["reason"]
    events = table(tmp_path, Table.EVENTS)
    assert kinds(events)[-3:] == ["abort", "load_stop", "locust_totals"]
    assert events["message"].tolist()[-2] == "abort"


EXPLORER = """
import itertools
from locust import FastHttpUser, constant, task

ids = itertools.count()

class Explorer(FastHttpUser):
    wait_time = constant(0)

    @task
    def forgets_name(self):
        self.client.get(f"/?id={next(ids)}")  # a new name per request: no name=
"""


def test_ten_thousand_names_stay_bounded_and_every_request_is_counted(
    tmp_path: Path, server: str
) -> None:
    (tmp_path / "explorer.py").write_text(EXPLORER)
    load = "{locustfile: explorer.py, shape: constant, users: 8, spawn_rate: 8, duration: 8s}"
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(f"name: explosion\ntarget: {{host: {server}}}\nload: {load}\n")
    proc = child(tmp_path, scenario)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, err
    lines = messages(out)
    final = last_progress(lines)
    requests, events = table(tmp_path, Table.REQUESTS), table(tmp_path, Table.EVENTS)
    assert final["requests"] >= 10_000, "fewer than 10,000 names: a very slow machine?"
    named = requests[requests["name"] != OVERFLOW_NAME]
    assert named["name"].nunique() == 500  # load.max_endpoints' default
    assert set(requests["name"]) - set(named["name"]) == {OVERFLOW_NAME}
    assert table(tmp_path, Table.LATENCY)["name"].nunique() == 501
    # nothing lost: the 500 names kept one request each, the overflow endpoint the rest
    locust_totals = events.query("kind == 'locust_totals'")["message"].tolist()
    assert locust_totals == [f"requests={final['requests']} failures=0"]
    assert named["requests"].sum() == 500
    overflow = requests.query("name == @OVERFLOW_NAME")["requests"].sum()
    assert overflow == final["requests"] - 500
    (warning,) = events.query("kind == 'names_folded'")["message"]
    assert "more than 500 distinct request names (e.g. GET /?id=" in warning
    assert "pass name= in the locustfile" in warning
    assert "names_folded" in [m["kind"] for m in lines if m["type"] == "event"]
    assert "pass name= in the locustfile" in err  # the load's log says it too


def test_plain_locust_judges_a_named_endpoint_past_the_bound_and_reports_the_warning(
    tmp_path: Path, server: str
) -> None:
    (tmp_path / "explorer.py").write_text(
        "import slagate.locust_plugin\n"
        + EXPLORER
        + '\n    @task\n    def home(self):\n        self.client.get("/", name="/home")\n'
    )
    load = "{locustfile: explorer.py, shape: constant, users: 4, duration: 3s, max_endpoints: 20}"
    sla = "{id: home, kind: availability, min_percent: 99, endpoint: GET /home, window: run}"
    slas = f"slas:\n  - {sla}\n"
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(f"name: explosion\ntarget: {{host: {server}}}\nload: {load}\n{slas}")
    done = locust(tmp_path, "-f", "explorer.py", "--scenario", str(scenario))
    assert done.returncode == 0, done.stderr
    requests = load_timeline(tmp_path / "run").requests
    # load.max_endpoints of other names, the overflow endpoint, and /home: the SLA judges
    # it, so it takes none of the 20 places and is never folded, whenever it first comes
    assert requests["name"].nunique() == 20 + 1 + 1
    assert "/home" in set(requests["name"])
    run = read_run_info(tmp_path / "run").windows["run"]
    in_run = requests[
        (requests["t_s"] * 1000 >= run.start_ms) & (requests["t_s"] * 1000 < run.end_ms)
    ]
    home = in_run.query("name == '/home'")["requests"].sum()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    (verdict,) = summary["verdicts"]
    assert verdict["status"] == "pass"
    assert f"0 of {home:,} requests failed" in verdict["message"]
    assert "more than 20 distinct request names" in done.stderr
    report = (tmp_path / "run" / "report.html").read_text()
    assert "<h2>Warnings</h2>" in report
    assert "names_folded: more than 20 distinct request names" in report


def test_child_reports_a_missing_locustfile_as_could_not_start(tmp_path: Path, server: str) -> None:
    body = "load: {locustfile: nope.py, shape: constant, users: 1, duration: 1s}\n"
    scenario = write_scenario(tmp_path, server, body)
    proc = child(tmp_path, scenario)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 2
    (error,) = messages(out)
    assert error["type"] == "error"
    assert "locustfile nope.py not found" in error["message"]
    assert "locustfile nope.py not found" in err


def locust(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locust", "--headless", "--run-dir", str(tmp_path / "run"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "SLAGATE_FLUSH_INTERVAL": "1"},
    )


PLANNED_S = 10


def test_plain_locust_on_a_full_disk_ends_in_one_clear_line_and_exit_2(
    tmp_path: Path, server: str
) -> None:
    """The run folder's disk fills mid-run: the last flush fails, and plain ``locust -f``
    says so in the line ``slagate run`` prints, not in Locust's uncaught-exception log."""
    locustfile = str(REPO / "locustfiles" / "orders.py")
    args = ["-f", locustfile, "--host", server, "--services", f"product={server}"]
    with small_disk(tmp_path / "disk") as disk:
        run_dir = disk / "run"
        argv = [sys.executable, "-m", "locust", "--headless", "--run-dir", str(run_dir)]
        with subprocess.Popen(
            [*argv, *args, "-u", "2", "-r", "2", "-t", f"{PLANNED_S}s"],
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "SLAGATE_FLUSH_INTERVAL": "1"},
        ) as load:
            deadline = time.monotonic() + TIMEOUT_S
            while not list(run_dir.glob("requests/*.parquet")):
                assert load.poll() is None and time.monotonic() < deadline, "nothing recorded"
                time.sleep(0.1)
            fill_disk(disk / "filler")
            filled_while_running = load.poll() is None
            _, err = load.communicate(timeout=TIMEOUT_S)

    assert filled_while_running, err  # the first part comes after ~1 s of PLANNED_S
    assert load.returncode == 2, err
    (line,) = [x for x in err.splitlines() if "slagate: cannot write the run folder" in x]
    assert f"cannot write the run folder {run_dir}: " in line
    assert "No space left on device" in line
    assert f"`slagate check {run_dir}` judges them" in line
    assert "Traceback" not in err and "Uncaught exception" not in err, err


def test_plain_locust_with_the_shop_locustfile_records_a_run(tmp_path: Path, server: str) -> None:
    locustfile = str(REPO / "locustfiles" / "orders.py")
    args = ["-f", locustfile, "--host", server, "--services", f"product={server}"]
    done = locust(tmp_path, *args, "-u", "5", "-r", "5", "-t", "4s")
    assert done.returncode == 0, done.stderr
    timeline = load_timeline(tmp_path / "run")
    names = set(zip(timeline.requests["method"], timeline.requests["name"], strict=True))
    assert {("GET", "/products"), ("POST", "/products"), ("POST", "/orders")} <= names
    assert timeline.requests["failures"].sum() == 0
    created = timeline.requests.query("method == 'POST' and name == '/orders'")
    assert len(timeline.acks) == created["requests"].sum() > 0
    assert kinds(timeline.events) == [
        "run_start",
        "load_start",
        "users",
        "spawn_complete",
        "load_stop",
        "locust_totals",
        "run_end",
    ]
    info = read_run_info(tmp_path / "run")
    assert (info.status, info.services) == ("completed", {"product": server})
    assert f"slagate: run folder {tmp_path / 'run'}" in done.stderr


def test_plain_locust_with_a_scenario_is_judged(tmp_path: Path, server: str) -> None:
    slas = (
        "slas:\n  - {id: some, kind: availability, min_percent: 50}\n"
        "  - {id: none-failed, kind: failed_requests, max: 0}\n"
    )
    scenario = write_scenario(tmp_path, server, constant(2, "3s", slas))
    done = locust(tmp_path, "-f", "probe.py", "--scenario", str(scenario))
    assert done.returncode == 1, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["exit_code"] == 1
    verdicts = [(v["id"], v["status"]) for v in summary["verdicts"]]
    assert verdicts == [("some", "pass"), ("none-failed", "fail")]
    info = read_run_info(tmp_path / "run")
    assert info.status == "completed"
    assert set(info.windows) >= {"run", "load", "steady"}
    # the same finish as `slagate run`: compacted tables and the HTML report
    assert (tmp_path / "run" / "report.html").stat().st_size > 0
    assert [p.name for p in (tmp_path / "run" / "requests").glob("*.parquet")] == [
        "all-000000.parquet"
    ]


def test_plain_locust_experiment_aborts_on_its_abort_rule(tmp_path: Path, server: str) -> None:
    more = "abort: {max_failure_ratio: 0.5, over: 2s, min_requests: 5}\n"
    more += "slas:\n  - {kind: availability, min_percent: 50}\n"
    scenario = write_scenario(tmp_path, server, constant(4, "30s", more), fail_weight=90)
    done = locust(tmp_path, "-f", "probe.py", "--scenario", str(scenario))
    assert done.returncode == 3, done.stderr
    events = load_timeline(tmp_path / "run").events.sort_values("t_ms", kind="stable")
    assert kinds(events)[-4:] == ["abort", "load_stop", "locust_totals", "run_end"]
    assert events["name"].tolist()[-4] == "max_failure_ratio"
    info = read_run_info(tmp_path / "run")
    assert info.status == "aborted"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["exit_code"], summary["status"]) == (3, "aborted")
