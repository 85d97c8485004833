"""The thin Locust-facing pieces, each checked in a fresh interpreter (Locust patches it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

LOCUSTFILE = """
import slagate.locust_plugin
from locust import HttpUser, task

class Nobody(HttpUser):
    @task
    def nothing(self):
        pass
"""


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_scenario_shape_ticks_through_the_plan_and_announces_targets() -> None:
    out = run_python(
        """
        import locust
        from slagate.load.plans import LoadPlan
        from slagate.load.shaping import ScenarioShape
        from slagate.scenario import Stage

        plan = LoadPlan((Stage(2.0, 3, 1.0), Stage(4.0, 50, 5.0)), max_users=10, max_duration_s=3.5)
        targets = []
        shape = ScenarioShape(plan, on_target=targets.append)
        ticks = []
        for t in (0.0, 1.0, 2.0, 3.0, 3.5):
            shape.get_run_time = lambda t=t: t
            ticks.append(shape.tick())
        print(ticks, targets, shape.finished)
        halted = ScenarioShape(plan)
        halted.get_run_time = lambda: 0.0
        halted.halt()
        print(halted.tick(), halted.finished)
        """
    )
    ran, halted = out.strip().splitlines()
    assert ran == "[(3, 1.0), (3, 1.0), (10, 5.0), (10, 5.0), None] [3, 10] True"
    assert halted == "None False"


def test_locust_parser_takes_the_options_and_env_vars() -> None:
    out = run_python(
        """
        import os
        import locust
        from locust.argument_parser import get_parser
        from slagate.load.plugin import register
        from slagate.load.options import PluginOptions

        register(locust.events)
        register(locust.events)  # idempotent: no duplicate options
        os.environ["SLAGATE_SERVICES"] = "product=http://127.0.0.1:8001"
        ns = get_parser(default_config_files=[]).parse_args(["--run-dir", "r", "--headless"])
        print(PluginOptions.from_namespace(ns))
        """
    )
    assert "run_dir=PosixPath('r')" in out
    assert "services={'product': 'http://127.0.0.1:8001'}" in out


def test_locust_rejects_malformed_services_with_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text(LOCUSTFILE)
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "lf.py", "--headless", "--services", "product"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "--services 'product': no '=' between the name and the URL" in done.stderr
    assert "expected NAME=URL such as product=http://127.0.0.1:8001" in done.stderr
    assert not (tmp_path / "reports").exists()


def test_plain_locust_with_an_invalid_scenario_exits_2(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text(LOCUSTFILE)
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "lf.py", "--headless", "--scenario", "nope.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "slagate: invalid scenario nope.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_service_url_and_acknowledge_without_a_recording() -> None:
    out = run_python(
        """
        import locust
        from locust.env import Environment
        from slagate.errors import ConfigError
        from slagate.locust_plugin import acknowledge, service_url

        env = Environment(events=locust.events)
        print(service_url(env, "product", default="http://gw:1/"))
        acknowledge(env, "order", 1)  # not recording: a no-op
        try:
            service_url(env, "product")
        except ConfigError as e:
            print(e)
        """
    )
    first, second = out.strip().splitlines()
    assert first == "http://gw:1"
    assert second.startswith("no URL for service 'product': pass --services product=")


def test_plain_locust_refuses_a_kubernetes_scenario(tmp_path: Path) -> None:
    (tmp_path / "lf.py").write_text(LOCUSTFILE)
    (tmp_path / "k.yaml").write_text(
        "name: k\ntarget: {host: 'http://127.0.0.1:9', kubernetes: {service: order}}\n"
        "load: {shape: constant, users: 1, duration: 2s}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "lf.py", "--headless", "--scenario", "k.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "k.yaml: this scenario targets Kubernetes" in done.stderr
    assert "run it with `slagate run k.yaml`" in done.stderr
    assert "Traceback" not in done.stderr
