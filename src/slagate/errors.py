"""The slagate exception tree.

Every error slagate raises on purpose derives from ``SlagateError``; third-party errors
are wrapped (``raise ... from e``) so callers never need to catch a library's own types.
The CLI maps the branches to exit codes (2: could not run, 3: aborted)::

    SlagateError
    ├── ConfigError              bad scenario file or option            -> exit 2
    │   └── ScenarioError        with file, line and field
    ├── PreflightError           target, cluster or Prometheus not usable -> exit 2
    ├── LoadError                the load generator failed to start or died -> exit 2
    ├── TimelineError            a run folder is missing or unreadable   -> exit 2
    ├── KubernetesError          the cluster API answered with an error
    ├── PrometheusError          a query failed or Prometheus is unreachable
    ├── SandboxError             the embedded cluster could not start or answer
    └── AbortedError             the run was stopped (signal, safety stop) -> exit 3
"""

from __future__ import annotations


class SlagateError(Exception):
    """Root of every error slagate raises on purpose."""


class ConfigError(SlagateError):
    """A user-supplied setting is invalid; the message names it and what to do."""


class ScenarioError(ConfigError):
    """A scenario file is invalid.

    ``problems`` lists one human-readable line per problem, each naming the file, the line
    (where known), the field and what is expected.
    """

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid scenario {path}:\n{lines}")


class PreflightError(SlagateError):
    """A check before any load failed: nothing was sent to the target."""


class LoadError(SlagateError):
    """The load generator could not start or stopped unexpectedly."""


class TimelineError(SlagateError):
    """A run folder or one of its tables is missing or unreadable."""


class KubernetesError(SlagateError):
    """The Kubernetes API refused or failed a request."""


class PrometheusError(SlagateError):
    """Prometheus was unreachable or rejected a query."""


class SandboxError(SlagateError):
    """The embedded sandbox cluster could not start, stop or answer."""


class AbortedError(SlagateError):
    """The run was stopped before its end: a signal or a safety stop."""
