from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from slagate.errors import ConfigError
from slagate.shop.database import DatabaseUrl
from slagate.shop.health import Lifecycle, Phase
from slagate.shop.serving import ShopServer, bind_listener
from slagate.shop.settings import ServerSettings, SigtermMode


def settings(port: int = 0, reuse_port: bool = False) -> ServerSettings:
    return ServerSettings(
        database=DatabaseUrl.sqlite(Path("unused.db")), port=port, reuse_port=reuse_port
    )


def test_listener_on_a_taken_port_is_a_config_error() -> None:
    with bind_listener(settings()) as first:
        port = first.getsockname()[1]
        first.listen()

        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind_listener(settings(port))


def test_replicas_share_a_port_with_reuse_port() -> None:
    with bind_listener(settings(reuse_port=True)) as first:
        port = first.getsockname()[1]
        first.listen()

        with bind_listener(settings(port, reuse_port=True)) as second:
            assert second.getsockname()[1] == port


@pytest.mark.parametrize("mode", [SigtermMode.DRAIN, SigtermMode.EXIT])
def test_sigint_always_drains_and_fails_readiness(mode: SigtermMode) -> None:
    lifecycle = Lifecycle(0.0, 0.0, lambda: 1.0)
    server = ShopServer(uvicorn.Config(FastAPI()), lifecycle, mode)

    server.handle_exit(signal.SIGINT, None)

    assert (server.should_exit, server.force_exit) == (True, False)
    assert lifecycle.phase is Phase.DRAINING


def test_sigterm_in_drain_mode_drains_without_reraising() -> None:
    lifecycle = Lifecycle(0.0, 0.0, lambda: 1.0)
    server = ShopServer(uvicorn.Config(FastAPI()), lifecycle, SigtermMode.DRAIN)

    server.handle_exit(signal.SIGTERM, None)
    server.handle_exit(signal.SIGTERM, None)

    assert (server.should_exit, server.force_exit) == (True, False)
    assert server._captured_signals == []


def test_second_sigint_forces_exit() -> None:
    server = ShopServer(uvicorn.Config(FastAPI()), Lifecycle(0.0, 0.0), SigtermMode.DRAIN)

    server.handle_exit(signal.SIGINT, None)
    server.handle_exit(signal.SIGINT, None)

    assert server.force_exit is True


def test_free_listener_reports_its_port() -> None:
    with bind_listener(settings()) as listener:
        assert listener.family == socket.AF_INET
        assert listener.getsockname()[1] > 0


def test_listener_is_explicitly_tcp_so_asyncio_disables_nagle() -> None:
    """asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP; without it
    every response waited ~40 ms for the client's delayed ACK."""
    with bind_listener(settings()) as listener:
        assert listener.proto == socket.IPPROTO_TCP
