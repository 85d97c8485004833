"""After the load: is every write the target acknowledged still readable?

The load records each acknowledged write (table ``acks``: e.g. an order id the shop
answered 201 for). ``check_acks`` reads each one back, ``GET {base_url}/orders/{key}``,
with bounded concurrency, and returns ``integrity`` rows: ``ok`` when the answer is 200,
``status`` 0 when no HTTP answer came. A connection error, timeout or 5xx is retried
(``attempts``), so one dropped connection does not count as a lost write; a 404 is not.
``record_integrity`` does this for a run folder and writes the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from slagate.timeline import IntegrityRow, Table, append_rows, read_table

Clock = Callable[[], float]  # epoch seconds
WRITER = "integrity"


@dataclass(frozen=True)
class IntegritySettings:
    """``path``: read-back path, ``{key}`` is the URL-quoted key. ``concurrency``: requests
    in flight. ``timeout_s``: per request. ``attempts``: tries per key when no answer or a
    5xx came. ``retry_delay_s``: pause between tries."""

    path: str = "/orders/{key}"
    concurrency: int = 16
    timeout_s: float = 5.0
    attempts: int = 3
    retry_delay_s: float = 0.2


@dataclass(frozen=True)
class IntegritySummary:
    checked: int
    lost: int


def check_acks(
    acks: Iterable[tuple[str, str]],
    base_url: str,
    *,
    settings: IntegritySettings | None = None,
    clock: Clock = time.time,
    transport: httpx.BaseTransport | None = None,
) -> list[IntegrityRow]:
    """One ``integrity`` row per distinct ``(kind, key)``, in the order given."""
    settings = settings or IntegritySettings()
    unique = list(dict.fromkeys(acks))
    limits = httpx.Limits(max_connections=settings.concurrency)
    with (
        httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=settings.timeout_s,
            limits=limits,
            transport=transport,
        ) as http,
        ThreadPoolExecutor(settings.concurrency, thread_name_prefix="integrity") as pool,
    ):
        statuses = pool.map(lambda ack: _read_back(http, ack[1], settings), unique)
        return [
            IntegrityRow(int(clock() * 1000), kind, key, status, status == 200)
            for (kind, key), status in zip(unique, statuses, strict=True)
        ]


def _read_back(http: httpx.Client, key: str, settings: IntegritySettings) -> int:
    url = settings.path.format(key=quote(key, safe=""))
    status = 0
    for attempt in range(max(1, settings.attempts)):
        if attempt:
            time.sleep(settings.retry_delay_s)
        try:
            status = http.get(url).status_code
        except httpx.HTTPError:
            status = 0
        if status != 0 and status < 500:
            return status
    return status


def record_integrity(
    run_dir: Path,
    base_url: str,
    *,
    kind: str = "order",
    settings: IntegritySettings | None = None,
    clock: Clock = time.time,
    transport: httpx.BaseTransport | None = None,
) -> IntegritySummary:
    """Check every ``kind`` ack of the run and write the ``integrity`` rows."""
    acks = read_table(run_dir, Table.ACKS)
    keys = acks.loc[acks["kind"] == kind, "key"].tolist()
    rows = check_acks(
        ((kind, k) for k in keys), base_url, settings=settings, clock=clock, transport=transport
    )
    append_rows(run_dir, WRITER, Table.INTEGRITY, rows)
    return IntegritySummary(checked=len(rows), lost=sum(1 for r in rows if not r.ok))
