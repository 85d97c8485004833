"""Generated command lines: every bad option or argument ends in exit 2 with a message.

In-process through click's ``CliRunner`` (fast: no interpreter per case). No case may do
work: every generated command line holds at least one mistake that must be refused
before a run folder, a preflight request, a sandbox or a load exists, and guards make
reaching any of them a failure (``Reached``). Cases per run (derandomized; about 3 s):

    slagate run       200    slagate check    100    slagate report    50
    slagate demo       50    slagate shop      50    slagate sandbox  100 (up, status, down)
    slagate compare    50    slagate history   20
                     ----
                      620
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from slagate import cli
from slagate.cli import main
from tests.generated import GENERATED

REPO = Path(__file__).resolve().parents[1]
VALID_SCENARIO = (
    "name: s\ntarget: {host: 'http://127.0.0.1:9'}\n"
    "load: {shape: constant, users: 1, duration: 1}\n"
    "slas: [{kind: availability, min_percent: 99}]\n"
)


OTHER_RUN = '{"run_id": "other-run", "scenario_name": "other", "started_ms": 1}'
"""A readable run folder of another scenario than ok.yaml's: no baseline for it."""


class Reached(Exception):
    """A generated command line got past its checks to real work."""


def _refuse(what: str) -> Any:
    def reached(*args: object, **kwargs: object) -> None:
        raise Reached(f"{what} was reached with {args!r:.200}")

    return reached


@pytest.fixture(scope="module", autouse=True)
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Work (run folder, preflight, sandbox, daemon) raises ``Reached``; cwd is scratch."""
    scratch = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("slagate.run.orchestrating._make_run_dir", _refuse("a run folder"))
        patch.setattr("slagate.run.orchestrating.check_reachable", _refuse("target preflight"))
        patch.setattr(cli, "start_sandbox", _refuse("the sandbox"))
        patch.setattr("slagate.sandbox.daemon.start_daemon", _refuse("the sandbox daemon"))
        patch.setattr("slagate.sandbox.daemon.stop_daemon", _refuse("stopping a sandbox"))
        patch.setattr("slagate.demo.LocalShop.start", _refuse("the reference shop"))
        patch.setattr("slagate.shop.serving.run_product_service", _refuse("a product service"))
        patch.setattr("slagate.shop.serving.run_order_service", _refuse("an order service"))
        patch.setattr("slagate.lifecycle.compact_run", _refuse("compacting a run folder"))
        patch.setattr("slagate.run.checking.prepare_server_side", _refuse("a Prometheus fetch"))
        patch.chdir(scratch)
        Path("ok.yaml").write_text(VALID_SCENARIO)
        Path("a-file").write_text("x")
        Path("empty").mkdir()
        Path("not-json").mkdir()
        Path("not-json/run.json").write_text('{"run_id": "r", "started_')
        Path("newer").mkdir()
        Path("newer/run.json").write_text('{"schema_version": 9, "run_id": "r"}')
        Path("other-run").mkdir()
        Path("other-run/run.json").write_text(OTHER_RUN)
        yield scratch


def invoke(args: Sequence[str]) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def assert_refused(args: Sequence[str]) -> None:
    result = invoke(args)
    shown = f"slagate {' '.join(args)!r}: exit {result.exit_code}\n{result.output}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(shown) from result.exception
    assert result.exit_code == 2, shown
    assert "Traceback" not in result.output, shown
    assert result.stderr.strip(), shown


# --- values ----------------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
"""What a shell can pass: no NUL (argv is C strings), no lone surrogate but those Python
makes of bytes that are not UTF-8 (below)."""
NOT_URL = st.one_of(
    TEXT.filter(lambda t: not t.startswith(("http://", "https://"))),
    st.sampled_from(["http://", "https://", "http:// x", "ftp://h", "http//h", "127.0.0.1:80"]),
)
MISSING = st.sampled_from(["missing.yaml", "no/such/dir", "", "caf\udce9.yaml"])
SECONDS = st.sampled_from(["-1", "nan", "inf", "-inf", "1e400", "abc", "", "5s", "1,5"])
UNKNOWN = st.sampled_from(["--nope", "-x", "--sandbox=yes", "--reports"])
"""Unknown options, a value given to a flag, an option missing its value (last)."""


def _written(content: bytes) -> str:
    Path("bad.yaml").write_bytes(content)
    return "bad.yaml"


BAD_SCENARIOS = st.one_of(MISSING, st.just("."), st.binary(max_size=40).map(_written))


def _lines(
    draw: st.DrawFn,
    head: list[str],
    good: dict[str, Any],
    bad: dict[str, Any],
    mistake: Sequence[str] = (),
) -> list[str]:
    """``head``, some good options, then ``mistake`` (after them: the last value of an
    option wins), more mistakes drawn from ``bad`` and maybe an unknown option."""
    line = list(head)
    for name in draw(st.lists(st.sampled_from(sorted(good) or [""]), max_size=2, unique=True)):
        line += [name, draw(good[name])] if name else []
    line += mistake
    for name in draw(st.lists(st.sampled_from(sorted(bad) or [""]), max_size=3)):
        line += [name, draw(bad[name])] if name else []
    if draw(st.booleans()):
        line.append(draw(UNKNOWN))
    return line


# --- slagate run -----------------------------------------------------------------------------

RUN_GOOD = {
    "--host": st.just("http://127.0.0.1:9"),
    "--service": st.just("product=http://127.0.0.1:9"),
    "--reports": st.just("reports"),
}
RUN_BAD = {
    "--host": NOT_URL,
    "--service": st.one_of(TEXT.filter(lambda t: "=" not in t and t.strip()), st.just("=http://h")),
    "--prometheus-url": NOT_URL,
    "--kubeconfig": MISSING,
    "--manifests": st.sampled_from(["ok.yaml", "missing"]),
    "--timing": st.sampled_from(["real-time", "compressed", "slow", "", "Real-Time"]),
    "--reports": st.just("a-file"),
    "--run-dir": st.just("a-file"),
    "--namespace": st.sampled_from(["Bad_NS", "-x", "a" * 70, "ns/x", "a b"]),
    "--workers": st.sampled_from(["-1", "65", "abc", ""]),
    "--expect-workers": st.sampled_from(["-1", "3", "x"]),  # 3: nobody may connect without --master
    "--expect-workers-max-wait": st.sampled_from(["0", "-1", "nan", "inf", "1e400", "5s"]),
    "--master-port": st.sampled_from(["0", "70000", "5557", "x"]),  # only with --master
    "--baseline": st.sampled_from(["empty", "not-json", "newer", "a-file", "no/such/dir"])
    | st.just("other-run"),
    "--data-plane": st.sampled_from(["iptables", "", "Kube-Proxy", "kube-proxy"]),  # no --sandbox
}
DATA_PLANES = st.sampled_from(["iptables", "", "Kube-Proxy", "per_request"])


@st.composite
def run_lines(draw: st.DrawFn) -> list[str]:
    """A scenario that cannot load, or a valid one with at least one bad option."""
    if draw(st.booleans()):
        return _lines(draw, ["run", draw(BAD_SCENARIOS)], RUN_GOOD, RUN_BAD)
    name = draw(st.sampled_from(sorted(RUN_BAD)))
    return _lines(draw, ["run", "ok.yaml"], RUN_GOOD, RUN_BAD, [name, draw(RUN_BAD[name])])


@settings(GENERATED, max_examples=200)
@given(line=run_lines())
def test_run_refuses_bad_input_before_any_work(line: list[str]) -> None:
    assert_refused(line)


# --- slagate check, slagate report -----------------------------------------------------------

BAD_RUN_DIRS = st.one_of(MISSING, st.sampled_from([".", "a-file", "not-json", "newer", "empty"]))
BASELINES = st.one_of(BAD_RUN_DIRS, st.sampled_from(["latest-pass", "other-run"]))


@settings(GENERATED, max_examples=100)
@given(data=st.data())
def test_check_refuses_bad_input(data: st.DataObject) -> None:
    good = {"--scenario": st.just("ok.yaml")}
    bad = {"--scenario": BAD_SCENARIOS, "--prometheus-url": NOT_URL, "--baseline": BASELINES}
    assert_refused(_lines(data.draw, ["check", data.draw(BAD_RUN_DIRS)], good, bad))


@settings(GENERATED, max_examples=50)
@given(data=st.data())
def test_report_refuses_bad_input(data: st.DataObject) -> None:
    assert_refused(_lines(data.draw, ["report", data.draw(BAD_RUN_DIRS)], {}, {}))


@settings(GENERATED, max_examples=50)
@given(data=st.data())
def test_compare_refuses_bad_input(data: st.DataObject) -> None:
    """Two folders, at least one no readable run folder (or the two of unlike scenarios)."""
    folders = [data.draw(BAD_RUN_DIRS), data.draw(st.one_of(BAD_RUN_DIRS, st.just("other-run")))]
    line = ["compare", *data.draw(st.permutations(folders))]
    if data.draw(st.booleans()):
        line.append(data.draw(UNKNOWN))
    assert_refused(line)


@settings(GENERATED, max_examples=20)
@given(data=st.data())
def test_history_refuses_bad_input(data: st.DataObject) -> None:
    reports = ["--reports", data.draw(st.sampled_from(["a-file", "no/such/dir"]))]
    mistake = data.draw(st.sampled_from([reports, [*reports, "--scenario", "s"], ["--nope"]]))
    assert_refused(["history", *mistake])


@settings(GENERATED, max_examples=50)
@given(data=st.data())
def test_demo_refuses_bad_input(data: st.DataObject) -> None:
    bad = {"--scenario": BAD_SCENARIOS, "--reports": st.just("a-file")}
    name = data.draw(st.sampled_from(sorted(bad)))
    mistake = [name, data.draw(bad[name])]
    assert_refused(_lines(data.draw, ["demo"], {"--scenario": st.just("ok.yaml")}, bad, mistake))


SHOP_BAD = {
    "--port": st.sampled_from(["-1", "65536", "http", ""]),
    "--startup-delay": SECONDS,
    "--cpu-ms": SECONDS,
    "--error-ratio": st.sampled_from(["1.5", "-0.1", "nan", "inf", "x"]),
    "--drain-timeout": SECONDS,
    "--on-sigterm": st.sampled_from(["kill", ""]),
    "--db": st.sampled_from(["no/such/dir/shop.db", "."]),
}
"""Every one of these is refused, whatever the rest of the line (`5s`, `1,5` included)."""


@settings(GENERATED, max_examples=50)
@given(data=st.data())
def test_shop_refuses_bad_input(data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(["product", "order"]))
    good = {"--port": st.just("0"), "--db": st.just("shop.db")}
    bad = dict(SHOP_BAD)
    if command == "order":
        good["--product-url"] = st.just("http://127.0.0.1:9")
        bad["--product-timeout"] = st.sampled_from(["0", "-1", "nan", "inf"])
    name = data.draw(st.sampled_from(sorted(bad)))
    mistake = [name, data.draw(bad[name])]
    assert_refused(_lines(data.draw, ["shop", command], good, bad, mistake))


# --- slagate sandbox -------------------------------------------------------------------------

SANDBOX_BAD = {
    "--name": st.sampled_from(["", ".hidden", "a/b", "../x", "caf\udce9"]),
    "--state-dir": st.sampled_from(["a-file"]),
    "--timeout": SECONDS,
}


@settings(GENERATED, max_examples=100)
@given(data=st.data())
def test_sandbox_refuses_bad_input(data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(["up", "status", "down"]))
    bad = dict(SANDBOX_BAD)
    if command == "status":
        del bad["--timeout"]
    if command == "up":
        bad["--manifests"] = st.sampled_from(["missing", "ok.yaml", "bad.yaml", "a-file"])
        bad["--timing"] = st.sampled_from(["slow", "", "realtime", "Compressed"])
        bad["--data-plane"] = DATA_PLANES
    name = data.draw(st.sampled_from(sorted(bad)))
    mistake = [name, data.draw(bad[name])]
    assert_refused(_lines(data.draw, ["sandbox", command], {}, bad, mistake))


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(["worker"], id="no-master-host"),
        pytest.param(["worker", "--master-host", "h", "--master-port", "0"], id="port-0"),
        pytest.param(["worker", "--master-host", "h", "--master-port", "x"], id="port-text"),
    ],
)
def test_worker_refuses_bad_input_before_starting(line: list[str]) -> None:
    assert_refused(line)


@pytest.mark.parametrize(
    "command",
    [
        *([], ["run"], ["check"], ["report"], ["demo"], ["sandbox"], ["sandbox", "up"]),
        *(["shop"], ["worker"], ["compare"], ["history"]),
    ],
)
def test_help_works_everywhere(command: list[str]) -> None:
    result = invoke([*command, "--help"])
    assert (result.exit_code, result.exception) == (0, None), result.output
    assert "Usage:" in result.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(
            ["run", "ok.yaml", "--host", "http://h:x"],
            "--host: 'http://h:x' is no valid URL: Port could not be cast to integer value",
            id="host-port-not-a-number",
        ),
        pytest.param(
            ["run", "ok.yaml", "--host", ""],
            "--host: expected an http:// or https:// URL, got ''",
            id="empty-host",
        ),
        pytest.param(
            ["run", "ok.yaml", "--prometheus-url", "localhost:9090"],
            "--prometheus-url: expected an http:// or https:// URL, got 'localhost:9090'",
            id="prometheus-url-without-scheme",
        ),
        pytest.param(
            ["run", "ok.yaml", "--reports", "a-file"],
            "--reports a-file: is a file, not a folder",
            id="reports-is-a-file",
        ),
        pytest.param(
            ["run", "ok.yaml", "--namespace", "Shop"],
            "--namespace 'Shop': not a namespace name",
            id="namespace-not-a-label",
        ),
        pytest.param(
            ["shop", "product", "--port", "0", "--db", "shop.db", "--startup-delay", "nan"],
            "'nan': expected a finite number of seconds, at least 0",
            id="shop-startup-delay-nan",
        ),
        pytest.param(
            [
                "shop",
                "order",
                "--port",
                "0",
                "--product-url",
                "http://h",
                "--product-timeout",
                "inf",
            ],
            "'inf': expected a finite number of seconds, above 0",
            id="shop-product-timeout-inf",
        ),
        pytest.param(
            ["sandbox", "down", "--timeout", "nan"],
            "'nan': expected a finite number of seconds, at least 0",
            id="timeout-nan",
        ),
        pytest.param(
            ["sandbox", "status", "--name", "caf\udce9"],
            "use letters, digits and dashes",
            id="name-not-utf8",
        ),
        pytest.param(
            ["run", "ok.yaml", "--sandbox", "--timing", "realtime"],
            "Invalid value for '--timing': unknown timing 'realtime'; valid: compressed, real-time",
            id="run-unknown-timing",
        ),
        pytest.param(
            ["run", "ok.yaml", "--timing", "real-time"],
            "Invalid value for --timing: only applies with --sandbox",
            id="timing-without-sandbox",
        ),
        pytest.param(
            ["sandbox", "up", "--timing", "fast"],
            "Invalid value for '--timing': unknown timing 'fast'; valid: compressed, real-time",
            id="sandbox-unknown-timing",
        ),
        pytest.param(
            ["sandbox", "up", "--data-plane", "iptables"],
            "Invalid value for '--data-plane': unknown data plane 'iptables'; "
            "valid: per-request, kube-proxy, istio, aws-alb, aws-nlb",
            id="unknown-data-plane",
        ),
        pytest.param(
            ["run", "ok.yaml", "--data-plane", "kube-proxy"],
            "Invalid value for --data-plane: only applies with --sandbox",
            id="data-plane-without-sandbox",
        ),
        pytest.param(
            ["sandbox", "up", "--manifests", "ok.yaml"],
            "ok.yaml, document 1: apiVersion: Required value",
            id="not-a-manifest",
        ),
    ],
)
def test_found_by_generation(line: list[str], message: str) -> None:
    result = invoke(line)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
