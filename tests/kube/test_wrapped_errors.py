"""Third-party errors do not leak: the public kube calls raise slagate's own errors.

As kopf asserts its ``APIError`` is no ``aiohttp.ClientError``: a caller catches
``KubernetesError``, ``PreflightError`` or ``ConfigError`` and never needs the kubernetes
client's, urllib3's or PyYAML's types. The servers are real, on loopback: one that answers
every request with an HTTP error and a Kubernetes Status, one that hangs up without an
answer, and a port nobody listens on.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest
import urllib3
import yaml
from kubernetes.client import exceptions as client_exceptions
from kubernetes.config import config_exception

from slagate import errors
from slagate.errors import ConfigError, KubernetesError, PreflightError, SlagateError
from slagate.kube.acting import Actor
from slagate.kube.connecting import KubeConnection, KubeOptions, check_server, connect
from slagate.kube.preflight import check_permissions, required_permissions
from slagate.kube.resolving import service_url
from slagate.kube.resources import PODS
from slagate.kube.streaming import Query, StopSignal, list_objects, open_watch
from slagate.kube.waiting import RolloutWaiter
from slagate.kube.watching import ClusterRecorder
from slagate.sandbox.apiserver.kubeconfig import write_kubeconfig
from tests.fakes import free_port
from tests.kube.objects import NS

LIBRARY_MODULES: tuple[ModuleType, ...] = (
    client_exceptions,
    config_exception,
    urllib3.exceptions,
    yaml,
)


def _library_errors() -> list[type[BaseException]]:
    return [
        value
        for module in LIBRARY_MODULES
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__.split(".")[0] in ("kubernetes", "urllib3", "yaml")
    ]


def test_no_slagate_error_is_a_library_error() -> None:
    ours = [v for v in vars(errors).values() if inspect.isclass(v) and issubclass(v, SlagateError)]
    library = _library_errors()

    assert len(library) > 20
    assert [(o.__name__, c.__name__) for o in ours for c in library if issubclass(o, c)] == []


# --- servers that fail ------------------------------------------------------------------------


def _failing_handler(status: int) -> type[BaseHTTPRequestHandler]:
    """Answers every request with ``status`` and a Kubernetes Status body; 0: hangs up."""

    class Failing(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if status == 0:
                self.close_connection = True
                return
            body = json.dumps(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": f"refused by the test server with {status}",
                    "code": status,
                }
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Failing


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(403, id="403"),
        pytest.param(404, id="404"),
        pytest.param(500, id="500"),
        pytest.param(0, id="hang-up"),
        pytest.param(None, id="refused"),
    ],
)
def failing_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a server that fails every request the way the param says."""
    status: int | None = request.param
    if status is None:
        yield f"http://127.0.0.1:{free_port()}"
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), _failing_handler(status))
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def failing(failing_url: str, tmp_path: Path) -> Iterator[KubeConnection]:
    connection = connect(
        KubeOptions(kubeconfig=write_kubeconfig(tmp_path / "kc", failing_url, token="unused"))
    )
    yield connection
    connection.close()


def _list(c: KubeConnection) -> object:
    return list_objects(
        PODS.list_call(c.api_client), Query(NS), plural="pods", server=c.server, timeout_s=2
    )


def _watch(c: KubeConnection) -> object:
    return open_watch(
        PODS.list_call(c.api_client), Query(NS), "1", plural="pods", server=c.server, timeout_s=2
    )


def _record(c: KubeConnection, tmp_path: Path) -> object:
    return ClusterRecorder(c.api_client, NS, tmp_path / "run").start()


def _wait(c: KubeConnection) -> object:
    waiter = RolloutWaiter(c.api_client, NS, StopSignal(), request_timeout_s=2)
    return waiter.wait_complete("order", deadline=0.0)


Call = Callable[[KubeConnection, Path], object]


def _library_cause(error: BaseException) -> BaseException | None:
    """The first error in ``error``'s ``raise ... from`` chain that is not slagate's."""
    cause = error.__cause__
    while isinstance(cause, SlagateError):
        cause = cause.__cause__
    return cause if isinstance(cause, tuple(_library_errors())) else None


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(lambda c, _: _list(c), KubernetesError, id="list"),
        pytest.param(lambda c, _: _watch(c), KubernetesError, id="watch"),
        pytest.param(
            lambda c, _: Actor(c.api_client, NS).read_deployment("order"),
            KubernetesError,
            id="get",
        ),
        pytest.param(
            lambda c, _: Actor(c.api_client, NS).scale("order", 3), KubernetesError, id="patch"
        ),
        pytest.param(
            lambda c, _: Actor(c.api_client, NS).delete_pod("order-1"),
            KubernetesError,
            id="delete",
        ),
        pytest.param(
            lambda c, _: Actor(c.api_client, NS).pick_pod("app=order"),
            KubernetesError,
            id="pick-pod",
        ),
        pytest.param(_record, KubernetesError, id="record"),
        pytest.param(lambda c, _: _wait(c), KubernetesError, id="wait"),
        pytest.param(
            lambda c, _: check_permissions(c.api_client, NS, required_permissions()),
            PreflightError,
            id="permissions",
        ),
        pytest.param(
            lambda c, _: service_url(c.api_client, NS, "order"), PreflightError, id="service-url"
        ),
    ],
)
def test_public_calls_raise_slagate_errors_chained_to_the_library_error(
    call: Call, error: type[SlagateError], failing: KubeConnection, tmp_path: Path
) -> None:
    with pytest.raises(error) as raised:
        call(failing, tmp_path)
    assert not isinstance(raised.value, tuple(_library_errors()))
    assert _library_cause(raised.value) is not None  # raise ... from e, all the way down


def test_server_check_says_unreachable_or_the_answer(failing: KubeConnection) -> None:
    with pytest.raises((PreflightError, KubernetesError)) as raised:
        check_server(failing, timeout_s=2)
    answered = "HTTP " in str(raised.value)
    assert isinstance(raised.value, KubernetesError if answered else PreflightError)
    assert not isinstance(raised.value, tuple(_library_errors()))


# --- malformed kubeconfig files -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("clusters: [\n  - {name: x\n", "while parsing a flow node", id="bad-yaml"),
        pytest.param("just a string\n", "'str' object", id="not-a-mapping"),
        pytest.param("- a\n- b\n", "list indices", id="a-list"),
        pytest.param("", "file is empty", id="empty"),
        pytest.param(
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
            "clusters: []\nusers: []\n",
            "Expected object with name k",
            id="dangling-cluster",
        ),
    ],
)
def test_malformed_kubeconfig_is_a_config_error(text: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        connect(KubeOptions(kubeconfig=path))
    message = str(raised.value)
    assert message.startswith(f"kubeconfig {path}: ")
    assert problem in message
    assert message.endswith("; check the file and --context")


def test_malformed_default_kubeconfig_is_a_preflight_error(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [\n")
    with pytest.raises(PreflightError, match="no usable Kubernetes configuration"):
        connect(environ={"KUBECONFIG": str(path)})
