"""Connecting to a cluster: an ``ApiClient``, the namespace, and errors that say what to do.

Where the configuration comes from, first match wins:

1. ``--kubeconfig FILE`` and/or ``--context NAME``: that file (else the default one) and
   that context (else its current context);
2. in a pod (``KUBERNETES_SERVICE_HOST`` set): the service account (in-cluster config);
3. ``$KUBECONFIG`` or ``~/.kube/config`` and its current context.

The namespace: ``--namespace``, else ``target.kubernetes.namespace`` if the scenario sets
it, else the context's namespace (in a pod: the service account's), else ``default``.

Every client error leaving this package is a ``KubernetesError`` naming the HTTP status,
the request and what to do (``api_call``); an API server that does not answer at all
before the run is a ``PreflightError`` naming its URL (``check_server``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client
from kubernetes import config as _config
from kubernetes.config.config_exception import ConfigException

from slagate.errors import ConfigError, KubernetesError, PreflightError
from slagate.scenario import KubeTarget, shown_url
from slagate.sla.formatting import shorten
from slagate.timeline import ERROR_TEXT_MAX

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
POOL_SIZE = 16  # connections: six watches, lists, actions and reviews at once
CHECK_TIMEOUT_S = 5.0

kube_config: Any = _config  # the loader functions carry no annotations
_MALFORMED = (
    ConfigException,
    yaml.YAMLError,
    OSError,
    AttributeError,
    KeyError,
    TypeError,
    ValueError,
)
"""What the untyped kubeconfig loader raises for a missing, unreadable or malformed file:
its own ConfigException, or whatever its YAML parsing and dict lookups hit."""
_ADVICE = {
    400: "the request was malformed; this is a slagate bug, please report it",
    401: "the API server rejected the credentials: refresh the token or log in again "
    "(kubectl get pods shows the same)",
    403: "permission denied: grant it with a Role and RoleBinding (deploy/harness/ holds the "
    "harness RBAC) or use another --context",
    404: "not found: check the name and the namespace (--namespace, target.kubernetes.namespace)",
    409: "conflict: the object changed meanwhile; try again",
    410: "expired: the resource version is too old; list again",
    422: "the API server found the request invalid (see its message)",
    429: "the API server is throttling requests; try again later",
}


@dataclass(frozen=True)
class KubeOptions:
    """Command-line choices; each ``None`` falls back as the module docstring says.

    ``kubeconfig``: a kubeconfig file (``--kubeconfig``). ``context``: a context in it
    (``--context``). ``namespace``: the namespace to watch and act in (``--namespace``).
    """

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class KubeConnection:
    """A configured client and where it points. ``source`` says which configuration was
    used (for messages and run.json; it holds no secret)."""

    api_client: client.ApiClient
    namespace: str
    server: str
    source: str

    def close(self) -> None:
        closing: Any = self.api_client
        closing.close()


def connect(
    options: KubeOptions | None = None,
    target: KubeTarget | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> KubeConnection:
    """Build the client. ``ConfigError`` for a bad file or context, ``PreflightError``
    when no configuration exists at all. Sends no request (see ``check_server``)."""
    options = options or KubeOptions()
    configuration = _configuration()
    use_kubeconfig = options.kubeconfig is not None or options.context is not None
    if not use_kubeconfig and environ.get("KUBERNETES_SERVICE_HOST"):
        context_namespace, source = _in_cluster(configuration, environ, service_account_dir)
    else:
        context_namespace, source = _from_kubeconfig(configuration, options, environ)
    api_client = client.ApiClient(configuration)
    namespace = _namespace(options, target, context_namespace)
    return KubeConnection(api_client, namespace, server_of(api_client), source)


def _namespace(options: KubeOptions, target: KubeTarget | None, from_context: str | None) -> str:
    if options.namespace:
        return options.namespace
    if target is not None and "namespace" in target.model_fields_set:
        return target.namespace
    return from_context or (target.namespace if target is not None else "default")


def _configuration() -> client.Configuration:
    """A fresh configuration (not the client's process-wide default), with a connection
    pool large enough for the watches, lists and actions running at once."""
    configuration: client.Configuration = type.__call__(client.Configuration)
    configuration.connection_pool_maxsize = max(
        POOL_SIZE, configuration.connection_pool_maxsize or 0
    )
    return configuration


def _from_kubeconfig(
    configuration: client.Configuration, options: KubeOptions, environ: Mapping[str, str]
) -> tuple[str | None, str]:
    path = str(options.kubeconfig) if options.kubeconfig else _default_kubeconfig(environ)
    try:
        contexts, current = kube_config.list_kube_config_contexts(path)
        chosen = _pick_context(contexts, current, options.context, path)
        kube_config.load_kube_config(
            config_file=path,
            context=chosen["name"],
            client_configuration=configuration,
            persist_config=False,
        )
    except _MALFORMED as e:
        raise _config_problem(path, options, e) from e
    namespace = (chosen.get("context") or {}).get("namespace")
    return namespace, f"kubeconfig {path}, context {chosen['name']}"


def _default_kubeconfig(environ: Mapping[str, str]) -> str:
    return environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


def _pick_context(
    contexts: list[dict[str, Any]] | None,
    current: dict[str, Any] | None,
    wanted: str | None,
    path: str,
) -> dict[str, Any]:
    if wanted is None:
        if not current:
            raise ConfigError(f"kubeconfig {path} has no current context: pass --context NAME")
        return current
    for context in contexts or []:
        if context.get("name") == wanted:
            return context
    names = ", ".join(str(c.get("name")) for c in contexts or []) or "none"
    raise ConfigError(f"--context {wanted}: no such context in {path} (it has: {names})")


def _config_problem(path: str, options: KubeOptions, error: Exception) -> Exception:
    if options.kubeconfig is None and options.context is None:
        return PreflightError(
            f"no usable Kubernetes configuration: {path}: {_short(error)}; pass --kubeconfig "
            "FILE, run inside a pod, or start the local cluster with `slagate sandbox up`"
        )
    return ConfigError(f"kubeconfig {path}: {_short(error)}; check the file and --context")


def _in_cluster(
    configuration: client.Configuration, environ: Mapping[str, str], service_account_dir: Path
) -> tuple[str | None, str]:
    loader = kube_config.incluster_config.InClusterConfigLoader(
        token_filename=str(service_account_dir / "token"),
        cert_filename=str(service_account_dir / "ca.crt"),
        environ=environ,
    )
    try:
        loader.load_and_set(configuration)
    except _MALFORMED as e:
        raise PreflightError(
            f"in-cluster Kubernetes configuration is unusable: {_short(e)}; mount the "
            "service account token or pass --kubeconfig FILE"
        ) from e
    try:
        namespace = (service_account_dir / "namespace").read_text().strip()
    except OSError:
        namespace = ""
    return namespace or None, "in-cluster service account"


# --- errors -------------------------------------------------------------------------------


def server_of(api_client: client.ApiClient) -> str:
    """The API server's URL as messages and run.json show it (no user info)."""
    return shown_url(str(api_client.configuration.host))


@contextlib.contextmanager
def api_call(request: str, server: str) -> Iterator[None]:
    """Turn client errors raised inside into ``KubernetesError``.

    ``request`` names what was asked, e.g. ``"PATCH deployments/order in namespace shop"``.
    """
    try:
        yield
    except client.ApiException as e:
        if e.status == 0:
            raise unreachable(server, request, e) from e
        raise api_error(e, request) from e
    except (urllib3.exceptions.HTTPError, OSError) as e:
        raise unreachable(server, request, e) from e


def api_error(error: client.ApiException, request: str) -> KubernetesError:
    """A ``KubernetesError`` from an API answer: status, request, the server's message
    (truncated) and what to do."""
    status = int(error.status or 0)
    advice = _ADVICE.get(status) or (
        "the API server failed; try again later" if status >= 500 else "see the message"
    )
    reason = error.reason or ""
    message = _status_message(error.body) or reason
    return KubernetesError(f"{request}: HTTP {status} {reason}: {message}; {advice}")


def is_transient(error: KubernetesError) -> bool:
    """Whether trying again may help: not for a client error the server answered
    (403, 404, 422, ...), except conflicts and throttling."""
    cause = error.__cause__
    if isinstance(cause, client.ApiException) and cause.status:
        return not 400 <= cause.status < 500 or cause.status in (408, 409, 429)
    return True


def unreachable(server: str, request: str, error: Exception) -> KubernetesError:
    return KubernetesError(
        f"{request}: cannot reach the Kubernetes API server at {server}: {_short(error)}; "
        "check the cluster is up and --kubeconfig/--context point at it"
    )


def _status_message(body: object) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body:
        return ""
    try:
        decoded = json.loads(body)
    except ValueError:
        return shorten(body, ERROR_TEXT_MAX)
    message = decoded.get("message") if isinstance(decoded, dict) else None
    return shorten(str(message) if message else body, ERROR_TEXT_MAX)


def _short(error: BaseException) -> str:
    """An error as messages quote it: one line, at most ``ERROR_TEXT_MAX`` characters."""
    return shorten(str(error) or type(error).__name__, ERROR_TEXT_MAX)


def check_server(connection: KubeConnection, timeout_s: float = CHECK_TIMEOUT_S) -> str:
    """GET /version; return the server's git version. ``PreflightError`` naming the URL
    if it does not answer, ``KubernetesError`` if it answers with an error."""
    try:
        with api_call("GET /version", connection.server):
            info = client.VersionApi(connection.api_client).get_code(_request_timeout=timeout_s)
    except KubernetesError as e:
        if isinstance(e.__cause__, client.ApiException) and e.__cause__.status:
            raise
        raise PreflightError(
            f"the Kubernetes API server {connection.server} is unreachable ({connection.source})"
            f": {_short(e.__cause__ or e)}; start the cluster (or `slagate sandbox up`) "
            "or point --kubeconfig/--context at a running one"
        ) from e
    return str(getattr(info, "git_version", "") or "")
