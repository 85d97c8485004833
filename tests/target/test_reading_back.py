"""Reading acknowledged writes back from a tiny local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from slagate.target.reading_back import IntegritySettings, check_acks, record_integrity
from slagate.timeline import TableWriter, read_table

FAST = IntegritySettings(concurrency=4, timeout_s=2.0, retry_delay_s=0.01)


class _Orders(BaseHTTPRequestHandler):
    stored = {"/orders/1", "/orders/a%2Fb"}
    flaky_once = {"/orders/2"}
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            flaky = self.path in self.flaky_once
            self.flaky_once.discard(self.path)
        status = 503 if flaky else 200 if self.path in self.stored | {"/orders/2"} else 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def shop() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Orders)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_each_ack_read_back_once(shop: str) -> None:
    acks = [("order", "1"), ("order", "2"), ("order", "9"), ("order", "a/b"), ("order", "1")]
    rows = check_acks(acks, shop + "/", settings=FAST, clock=lambda: 1.5)
    assert rows == [
        (1500, "order", "1", 200, True),
        (1500, "order", "2", 200, True),  # a 503 first, then 200: retried
        (1500, "order", "9", 404, False),
        (1500, "order", "a/b", 200, True),
    ]


def test_no_answer_is_status_zero() -> None:
    rows = check_acks([("order", "1")], "http://127.0.0.1:9", settings=FAST, clock=lambda: 1.0)
    assert rows == [(1000, "order", "1", 0, False)]


def test_record_integrity_reads_acks_and_writes_rows(shop: str, tmp_path: Path) -> None:
    writer = TableWriter(tmp_path, "load")
    writer.append(
        "acks",
        [(1, "order", "1", "local"), (2, "order", "7", "local"), (3, "product", "1", "local")],
    )
    writer.flush()
    summary = record_integrity(tmp_path, shop, settings=FAST, clock=lambda: 2.0)
    assert (summary.checked, summary.lost) == (2, 1)
    assert read_table(tmp_path, "integrity").values.tolist() == [
        [2000, "order", "1", 200, True],
        [2000, "order", "7", 404, False],
    ]
