"""Settings of one shop process, one frozen dataclass per concern.

``AppSettings`` shape what the app does per request (the same for both services),
``ServerSettings`` how the process listens and stops, ``UpstreamSettings`` how the order
service reaches the product service. Units are in the field names: ``_s`` seconds,
``_ms`` milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from slagate.errors import ConfigError
from slagate.shop.database import DatabaseUrl


class SigtermMode(StrEnum):
    """What a service does on SIGTERM.

    ``drain`` is what a well-behaved pod does: stop accepting, finish what is in flight,
    exit 0. ``exit`` is a fault mode for tests: die at once, dropping in-flight requests,
    the way a crashed or OOM-killed replica looks to its clients.
    """

    DRAIN = "drain"
    EXIT = "exit"


@dataclass(frozen=True)
class AppSettings:
    """Behaviour of a shop app, independent of how it is served."""

    startup_delay_s: float = 0.0
    """Seconds after the process began starting during which ``/healthz/ready`` answers 503,
    like an application warming caches; 0 makes it ready at once."""

    cpu_ms: float = 0.0
    """CPU milliseconds burnt per business request (not ``/metrics`` or ``/healthz``), so that
    load turns into CPU utilisation for a CPU-based autoscaler. Measured in thread CPU time,
    so it costs the same whatever else the machine does."""

    fail_while_starting: bool = False
    """Answer business requests with 503 until the start-up delay has passed, like an app
    whose connections and caches are not warm yet; what a readiness probe protects from."""

    error_ratio: float = 0.0
    """Share (0..1) of business requests answered 500 without doing the work, spread
    deterministically (``slagate.shop.injecting``): an SLA that must fail, on demand."""

    latency_ms: float = 0.0
    """Milliseconds every business request waits without holding the event loop, like a
    slow dependency (a database, a downstream call): wall time added whatever the machine's
    load, unlike ``cpu_ms``, whose wall time grows when the CPU is shared."""

    def __post_init__(self) -> None:
        _require_non_negative("startup_delay_s", self.startup_delay_s)
        _require_non_negative("cpu_ms", self.cpu_ms)
        _require_non_negative("latency_ms", self.latency_ms)
        if not 0 <= self.error_ratio <= 1:
            raise ConfigError(f"error_ratio must be within 0..1, got {self.error_ratio}")


@dataclass(frozen=True)
class ServerSettings:
    """How one service process listens, stores and stops."""

    database: DatabaseUrl
    """The database every replica of the service shares (and possibly the other service):
    a SQLite file (created with its tables when missing; its directory must exist and be
    writable) or a PostgreSQL server (the tables are created when missing)."""

    host: str = "127.0.0.1"
    """Address to listen on."""

    port: int = 0
    """TCP port to listen on; 0 lets the kernel pick one (logged at start-up)."""

    reuse_port: bool = False
    """Set SO_REUSEPORT so several replicas listen on one port and the kernel spreads
    connections over them (Linux); every replica of the port must set it."""

    on_sigterm: SigtermMode = SigtermMode.DRAIN
    """What SIGTERM does; see ``SigtermMode``. SIGINT always drains."""

    drain_timeout_s: float = 10.0
    """Upper bound, in seconds, on finishing in-flight requests after SIGTERM in drain mode;
    what is still running then is cancelled and the process exits 0 anyway."""

    db_connections: int = 4
    """Database connections (and worker threads) per process. Queries run off the event
    loop so a writer waiting on another replica's lock never stalls the whole process."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be within 0..65535, got {self.port}")
        _require_non_negative("drain_timeout_s", self.drain_timeout_s)
        if self.db_connections < 1:
            raise ConfigError(f"db_connections must be at least 1, got {self.db_connections}")


@dataclass(frozen=True)
class UpstreamSettings:
    """How the order service calls the product service."""

    product_url: str
    """Base URL of the product service, e.g. ``http://127.0.0.1:8001``."""

    timeout_s: float = 5.0
    """Seconds allowed per call (connect, write, read each); past it the order fails 503."""

    max_connections: int = 100
    """Connections kept to the product service; more concurrent calls wait for one."""

    def __post_init__(self) -> None:
        if not self.product_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"product URL must start with http:// or https://, got {self.product_url!r}"
            )
        if not math.isfinite(self.timeout_s) or self.timeout_s <= 0:
            raise ConfigError(f"timeout_s must be a finite number above 0, got {self.timeout_s}")
        if self.max_connections < 1:
            raise ConfigError(f"max_connections must be at least 1, got {self.max_connections}")


def _require_non_negative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:  # click's FloatRange lets nan and inf through
        raise ConfigError(f"{name} must be a finite number, not negative, got {value}")
