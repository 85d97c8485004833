from __future__ import annotations

import threading
from collections.abc import Callable

import anyio
import anyio.to_thread
import pytest

from slagate.shop.pooling import StorePool

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """A store that records which threads used it and whether it was closed."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.closed = False

    def touch(self) -> int:
        self.threads.add(threading.get_ident())
        return id(self)

    def close(self) -> None:
        self.closed = True


async def test_operations_run_off_the_event_loop_thread() -> None:
    store = Recorder()
    pool = StorePool([store])

    result = await pool.read(lambda s: s.touch())

    assert result == id(store)
    assert threading.get_ident() not in store.threads


async def test_errors_propagate_and_the_store_returns_to_the_pool() -> None:
    pool = StorePool([Recorder()])

    def fail(store: Recorder) -> None:
        raise LookupError("nope")

    with pytest.raises(LookupError):
        await pool.read(fail)
    assert await pool.read(lambda s: s.touch()) > 0


def test_close_closes_every_store() -> None:
    stores = [Recorder(), Recorder()]

    StorePool(stores).close()

    assert [s.closed for s in stores] == [True, True]


def test_open_closes_what_it_opened_when_one_fails() -> None:
    opened: list[Recorder] = []

    def opener() -> Recorder:
        if len(opened) == 2:
            raise OSError("disk gone")
        opened.append(Recorder())
        return opened[-1]

    with pytest.raises(OSError):
        StorePool.open(opener, size=3)
    assert [s.closed for s in opened] == [True, True]


def test_empty_pool_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one store"):
        StorePool[Recorder]([])


async def test_writes_wait_for_each_other_but_reads_do_not() -> None:
    pool = StorePool([Recorder(), Recorder()])
    first_started, release_first = threading.Event(), threading.Event()
    order: list[str] = []

    def blocking_write(store: Recorder) -> None:
        first_started.set()
        release_first.wait(5)
        order.append("first write")

    def record(name: str) -> Callable[[Recorder], None]:
        return lambda store: order.append(name)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(pool.write, blocking_write)
        await anyio.to_thread.run_sync(first_started.wait, 5)
        tasks.start_soon(pool.write, record("second write"))
        await pool.read(record("read"))
        release_first.set()

    assert order == ["read", "first write", "second write"]
