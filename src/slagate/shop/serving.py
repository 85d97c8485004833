"""Running one shop service process: open the stores, bind, serve, stop on SIGTERM.

This is the composition root: the only place that builds the real stores, registry,
HTTP client and uvicorn server and wires them into an app. The socket is bound before
serving so that a taken port is a clear ``ConfigError``, not a traceback from uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from slagate.errors import ConfigError
from slagate.shop.health import Lifecycle
from slagate.shop.order_app import create_order_app
from slagate.shop.orders import OrderStore
from slagate.shop.pooling import StorePool
from slagate.shop.product_app import create_product_app
from slagate.shop.product_client import connecting
from slagate.shop.products import ProductStore
from slagate.shop.settings import AppSettings, ServerSettings, SigtermMode, UpstreamSettings

logger = logging.getLogger(__name__)

EXIT_CODE_ON_SIGTERM = 128 + signal.SIGTERM
"""Exit status in ``exit`` mode: what a shell reports for a process killed by SIGTERM."""

LISTEN_BACKLOG = 2048


class ShopServer(uvicorn.Server):
    """A uvicorn server whose SIGTERM either drains or exits at once.

    uvicorn's own handler records the signal and re-raises it after shutting down, so the
    process would die "by SIGTERM" instead of exiting 0 after a clean drain; this one
    does not. It also fails readiness the moment shutdown begins.
    """

    def __init__(
        self, config: uvicorn.Config, lifecycle: Lifecycle, on_sigterm: SigtermMode
    ) -> None:
        super().__init__(config)
        self._lifecycle = lifecycle
        self._on_sigterm = on_sigterm

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self._on_sigterm is SigtermMode.EXIT:
            _exit_at_once()
        self._lifecycle.begin_shutdown()
        if self.should_exit:
            self.force_exit = self.force_exit or sig == signal.SIGINT
            return
        logger.info("signal %d: draining in-flight requests, then exiting", sig)
        self.should_exit = True


def run_product_service(server: ServerSettings, app: AppSettings) -> None:
    """Serve the product service until a signal stops it; returns after a drain."""
    lifecycle = _lifecycle(app)
    stores = StorePool.open(lambda: ProductStore.open(server.database), server.db_connections)
    try:
        with bind_listener(server) as listener:
            application = create_product_app(stores, app, CollectorRegistry(), lifecycle)
            _announce("product", listener, server, app)
            asyncio.run(_serve(application, listener, server, lifecycle))
    finally:
        stores.close()


def run_order_service(server: ServerSettings, app: AppSettings, upstream: UpstreamSettings) -> None:
    """Serve the order service until a signal stops it; returns after a drain."""
    lifecycle = _lifecycle(app)
    stores = StorePool.open(lambda: OrderStore.open(server.database), server.db_connections)
    try:
        with bind_listener(server) as listener:
            _announce("order", listener, server, app)
            asyncio.run(_serve_orders(stores, listener, server, app, upstream, lifecycle))
    finally:
        stores.close()


def bind_listener(server: ServerSettings) -> socket.socket:
    """A TCP socket bound to the server's address; raises ``ConfigError`` if it cannot be."""
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    # An explicit IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted connections (it
    # checks the protocol number); with 0, Nagle holds back the response body written
    # after its headers until the client's delayed ACK: 40 ms on every request.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if server.reuse_port:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((server.host, server.port))
    except (OSError, AttributeError) as e:
        listener.close()
        raise ConfigError(
            f"cannot listen on {server.host}:{server.port}: {e}; "
            "choose another --port or stop the process that holds it"
        ) from e
    return listener


def process_age_s() -> float:
    """Seconds since this process started, to 10 ms; 0 where the kernel does not say.

    The start-up delay counts from process start, as a probe's ``initialDelaySeconds``
    counts from container start, so interpreter and import time are part of it. Both
    readings are on the kernel's boot-time clock; psutil's ``create_time`` is not usable
    here, it goes through the boot time rounded to whole seconds.
    """
    try:
        after_name = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_s = int(after_name[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started_s)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def _lifecycle(app: AppSettings) -> Lifecycle:
    return Lifecycle(time.monotonic() - process_age_s(), app.startup_delay_s, time.monotonic)


async def _serve_orders(
    stores: StorePool[OrderStore],
    listener: socket.socket,
    server: ServerSettings,
    app: AppSettings,
    upstream: UpstreamSettings,
    lifecycle: Lifecycle,
) -> None:
    async with connecting(upstream) as products:
        application = create_order_app(stores, products, app, CollectorRegistry(), lifecycle)
        await _serve(application, listener, server, lifecycle)


async def _serve(
    application: FastAPI, listener: socket.socket, server: ServerSettings, lifecycle: Lifecycle
) -> None:
    config = uvicorn.Config(
        application,
        host=server.host,
        port=listener.getsockname()[1],
        loop="asyncio",
        http="h11",
        lifespan="off",
        access_log=False,
        log_config=None,
        server_header=False,
        backlog=LISTEN_BACKLOG,
        # uvicorn annotates int but hands it to asyncio.wait_for, which takes float seconds.
        timeout_graceful_shutdown=server.drain_timeout_s,  # type: ignore[arg-type]
    )
    await ShopServer(config, lifecycle, server.on_sigterm).serve(sockets=[listener])


def _announce(name: str, listener: socket.socket, server: ServerSettings, app: AppSettings) -> None:
    host, port = listener.getsockname()[:2]
    logger.info(
        "%s service listening on http://%s:%d (pid %d, on-sigterm %s, drain-timeout %g s, "
        "startup-delay %g s, cpu-ms %g, db %s)",
        name, host, port, os.getpid(), server.on_sigterm.value, server.drain_timeout_s,
        app.startup_delay_s, app.cpu_ms, server.database,
    )  # fmt: skip


def _exit_at_once() -> None:
    """Die now, like a crashed replica: no response finished, no cleanup, no log lock."""
    os.write(2, b"SIGTERM in exit mode: exiting at once, dropping in-flight requests\n")
    os._exit(EXIT_CODE_ON_SIGTERM)
