"""Service proxy throughput and added latency: the same upstream, direct, through the
sandbox's proxy, and through a plain aiohttp reverse proxy.

The sandbox's proxy runs as in a sandbox: its own process (`python -m slagate.sandbox
proxy`), watching a sandbox API server that holds one Service and one EndpointSlice
pointing at the upstream (nginx answering "ok", or a shop product pod with `--target
shop`). The aiohttp proxy (`aiohttp_proxy` below, its own process too, same event loop
choice) is the yardstick: the hand-written HTTP/1.1 proxy is kept only while it beats it.

1. Throughput: headless Locust (FastHttpUser, no wait, --users users) for --duration
   seconds on each of direct, proxy and aiohttp, the order reversed every round (ABC CBA:
   cancels drift); requests per second and Locust's p50 (whole milliseconds) per run, and
   each proxy process's CPU time per request (microseconds): with Locust as the
   bottleneck, requests per second hide what a change to the hot path costs; CPU per
   request shows it.
2. Added latency: one keep-alive connection, sequential requests, microsecond timer;
   p50 and p99 of each, and the difference to direct.

With two cores or more Locust is pinned to core 0 and the proxies and the upstream to
core 1, so a proxy cannot borrow the load generator's core.

    .venv/bin/python benchmarks/proxy_throughput.py [--duration 10] [--rounds 2] [--users 50]

Targets: >= 3,000 rps through the proxy; < 2 ms added p50; more rps than aiohttp. Needs
nginx for the default target (apt-get install -y nginx-light).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

import psutil
from aiohttp import ClientSession, TCPConnector, web
from nginx_target import NGINX, nginx_argv, pinned

from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.resources import ENDPOINT_SLICES, SERVICES
from slagate.sandbox.proxy.portsfile import read_ports_file
from slagate.sandbox.proxy.topology import ServiceKey
from slagate.shop.launching import free_port

TARGET_RPS = 3000.0
TARGET_ADDED_P50_MS = 2.0
LOCUSTFILE = """
from locust import FastHttpUser, task

class Hit(FastHttpUser):
    @task
    def index(self):
        self.client.get({path!r})
"""


@contextmanager
def child(argv: list[str], log: Path, cpu: int) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, preexec_fn=pinned(cpu))
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def answers(url_port: int, path: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", url_port), timeout=1) as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            return conn.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextmanager
def upstream(workdir: Path, target: str) -> Iterator[tuple[int, str]]:
    """The upstream on a free port: (port, path to request)."""
    port = free_port()
    if target == "nginx":
        if not NGINX.exists():
            raise SystemExit(f"{NGINX} not found: apt-get install -y nginx-light")
        argv = nginx_argv(workdir, port)
        path = "/"
    else:
        argv = [sys.executable, "-m", "slagate.shop", "product", "--port", str(port)]
        argv += ["--db", str(workdir / "products.db")]
        path = "/healthz/live"
    with child(argv, workdir / f"{target}.log", cpu=1):
        wait_for(lambda: answers(port, path), f"{target} on port {port}")
        yield port, path


@contextmanager
def proxied(workdir: Path, upstream_port: int, path: str) -> Iterator[tuple[int, int]]:
    """A sandbox API server with the Service, and the proxy process; its port and pid."""
    store = ObjectStore()
    store.create(SERVICES, service(), "default")
    store.create(ENDPOINT_SLICES, endpoint_slice(upstream_port), "default")
    with ApiServer(store) as server:
        kubeconfig = server.write_kubeconfig(workdir / "kubeconfig")
        ports_file = workdir / "ports.json"
        argv = [sys.executable, "-m", "slagate.sandbox", "proxy", "--kubeconfig", str(kubeconfig)]
        argv += ["--ports-file", str(ports_file), "--delay", "0"]
        with child(argv, workdir / "proxy.log", cpu=1) as proc:
            key = ServiceKey("default", "bench")
            wait_for(lambda: key in read_ports_file(ports_file), "the proxy's ports file")
            port = read_ports_file(ports_file)[key][0].proxy_port
            wait_for(lambda: answers(port, path), "a routed request through the proxy")
            yield port, proc.pid


@contextmanager
def aiohttp_proxied(workdir: Path, upstream_port: int, path: str) -> Iterator[tuple[int, int]]:
    """The aiohttp reverse proxy in its own process, pinned like the sandbox's; port, pid."""
    port = free_port()
    argv = [sys.executable, __file__, "--serve-aiohttp", str(port), str(upstream_port)]
    with child(argv, workdir / "aiohttp.log", cpu=1) as proc:
        wait_for(lambda: answers(port, path), "a request through the aiohttp proxy")
        yield port, proc.pid


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te"}
"""Headers that describe one connection, not the message: never forwarded as they are."""


async def aiohttp_proxy(port: int, upstream_port: int) -> None:
    """A plain reverse proxy on aiohttp: every request to the upstream over a pooled
    keep-alive session, the whole response read and sent back. The yardstick."""
    upstream = f"http://127.0.0.1:{upstream_port}"
    session = ClientSession(connector=TCPConnector(limit=0), auto_decompress=False)

    async def forward(request: web.Request) -> web.Response:
        body = await request.read() if request.can_read_body else None
        async with session.request(
            request.method,
            upstream + request.path_qs,
            headers=_end_to_end(request.headers),
            data=body,
            allow_redirects=False,
        ) as reply:
            content = await reply.read()
            return web.Response(
                status=reply.status, body=content, headers=_end_to_end(reply.headers)
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def _end_to_end(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}


def serve_aiohttp(port: int, upstream_port: int) -> int:
    """The aiohttp proxy process's body, on the loop the sandbox's proxy would pick."""
    run: Callable[..., object] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        run = uvloop.run
    run(aiohttp_proxy(port, upstream_port))
    return 0


def service() -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "bench"},
        "spec": {"selector": {"app": "bench"}, "ports": [{"name": "http", "port": 80}]},
    }


def endpoint_slice(port: int) -> dict[str, object]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "bench-1", "labels": {"kubernetes.io/service-name": "bench"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
    }


class LoadRun(NamedTuple):
    rps: float
    p50_ms: float
    requests: int
    cpu_us: float | None = None
    """CPU microseconds per request of the process serving ``port`` (None: not measured)."""


def process_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def measured_run(
    workdir: Path, port: int, pid: int | None, path: str, label: str, args: argparse.Namespace
) -> LoadRun:
    """``locust_run`` with the CPU the process ``pid`` used per request meanwhile."""
    before = process_cpu_s(pid)
    run = locust_run(workdir, port, path, label, args)
    if pid is None or not run.requests:
        return run
    return run._replace(cpu_us=(process_cpu_s(pid) - before) / run.requests * 1e6)


def locust_run(
    workdir: Path, port: int, path: str, label: str, args: argparse.Namespace
) -> LoadRun:
    locustfile = workdir / "bench_locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(path=path))
    stats = workdir / f"{label}-{time.time_ns()}"
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless"]
    argv += ["--host", f"http://127.0.0.1:{port}", "-u", str(args.users), "-r", str(args.users)]
    argv += ["-t", f"{args.duration}s", "--json-file", str(stats), "--only-summary"]
    argv += ["--loglevel", "ERROR"]
    subprocess.run(argv, cwd=workdir, check=True, preexec_fn=pinned(0), timeout=args.duration + 60)
    entries = json.loads(stats.with_suffix(".json").read_text())
    return LoadRun(rps_of(entries), p50_of(entries), sum(e["num_requests"] for e in entries))


def rps_of(entries: list[dict[str, float]]) -> float:
    requests = sum(e["num_requests"] for e in entries)
    start = min(e["start_time"] for e in entries)
    end = max(e["last_request_timestamp"] for e in entries)
    return requests / (end - start)


def p50_of(entries: list[dict[str, object]]) -> float:
    """Median of Locust's response-time histogram (keys are whole milliseconds)."""
    counts: dict[float, int] = {}
    for entry in entries:
        for key, count in entry["response_times"].items():  # type: ignore[attr-defined]
            counts[float(key)] = counts.get(float(key), 0) + int(count)
    total, seen = sum(counts.values()), 0
    for key in sorted(counts):
        seen += counts[key]
        if seen * 2 >= total:
            return key
    return float("nan")


def probe_latencies(port: int, path: str, count: int) -> list[float]:
    """Sequential requests on one keep-alive connection; each round trip in milliseconds."""
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    times = []
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        for _ in range(count):
            start = time.perf_counter()
            conn.sendall(request)
            read_response(reader)
            times.append((time.perf_counter() - start) * 1000)
    return times


def read_response(reader: object) -> None:
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):  # type: ignore[attr-defined]
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    reader.read(length)  # type: ignore[attr-defined]


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


LABELS = ("direct", "proxy", "aiohttp")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per Locust run")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (one run of each)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--probe", type=int, default=3000, help="sequential probe requests")
    parser.add_argument("--target", choices=["nginx", "shop"], default="nginx")
    parser.add_argument("--serve-aiohttp", nargs=2, type=int, metavar=("PORT", "UPSTREAM"))
    args = parser.parse_args()
    if args.serve_aiohttp:
        return serve_aiohttp(*args.serve_aiohttp)
    with tempfile.TemporaryDirectory(prefix="slagate-proxy-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream_port, path = stack.enter_context(upstream(workdir, args.target))
        proxy_port, proxy_pid = stack.enter_context(proxied(workdir, upstream_port, path))
        aiohttp_port, aiohttp_pid = stack.enter_context(
            aiohttp_proxied(workdir, upstream_port, path)
        )
        ports = {"direct": upstream_port, "proxy": proxy_port, "aiohttp": aiohttp_port}
        pids = {"proxy": proxy_pid, "aiohttp": aiohttp_pid}
        print(f"{args.target} on :{upstream_port}, proxy on :{proxy_port}, ", end="")
        print(f"aiohttp proxy on :{aiohttp_port}; path {path}")
        print(
            f"{args.rounds} rounds (order reversed every round) of {args.duration} s, "
            f"{args.users} users, {os.cpu_count()} cpus"
        )
        return report(measure(workdir, ports, pids, path, args), ports, path, args)


def measure(
    workdir: Path,
    ports: dict[str, int],
    pids: dict[str, int],
    path: str,
    args: argparse.Namespace,
) -> dict[str, list[LoadRun]]:
    runs: dict[str, list[LoadRun]] = {label: [] for label in LABELS}
    for index in range(args.rounds):
        order = LABELS if index % 2 == 0 else LABELS[::-1]
        for label in order:
            run = measured_run(workdir, ports[label], pids.get(label), path, label, args)
            runs[label].append(run)
            cpu = f"  cpu {run.cpu_us:.0f} us/request" if run.cpu_us is not None else ""
            print(
                f"round {index + 1} {label:7s}: {run.rps:7.0f} rps  p50 {run.p50_ms:.0f} ms{cpu}",
                flush=True,
            )
    return runs


def report(
    runs: dict[str, list[LoadRun]], ports: dict[str, int], path: str, args: argparse.Namespace
) -> int:
    measured = ("proxy", "aiohttp")
    rps = {label: statistics.median(r.rps for r in items) for label, items in runs.items()}
    p50 = {label: statistics.median(r.p50_ms for r in items) for label, items in runs.items()}
    probes = {label: probe_latencies(port, path, args.probe) for label, port in ports.items()}
    probe_p50 = {label: quantile(times, 0.5) for label, times in probes.items()}
    probe_p99 = {label: quantile(times, 0.99) for label, times in probes.items()}
    for label in LABELS:
        print(
            f"{label:7s} {rps[label]:7.0f} rps ({rps[label] / rps['direct']:4.0%} of direct)  "
            f"locust p50 {p50[label]:3.0f} ms  probe p50 {probe_p50[label]:.3f} ms  "
            f"p99 {probe_p99[label]:.3f} ms  added p50 "
            f"{probe_p50[label] - probe_p50['direct']:+.3f} ms"
        )
    cpu = {
        label: statistics.median(r.cpu_us for r in runs[label] if r.cpu_us) for label in measured
    }
    print(
        f"CPU per request: proxy {cpu['proxy']:.1f} us, aiohttp {cpu['aiohttp']:.1f} us "
        "(median of the rounds)"
    )
    paired = [p.rps / a.rps for p, a in zip(runs["proxy"], runs["aiohttp"], strict=True)]
    ratio = statistics.median(paired)
    added = probe_p50["proxy"] - probe_p50["direct"]
    print(
        f"proxy / aiohttp rps per round: {' '.join(f'{r:.2f}' for r in paired)}; "
        f"median {ratio:.2f}x"
    )
    ok = rps["proxy"] >= TARGET_RPS and added < TARGET_ADDED_P50_MS and ratio > 1
    print(
        f"proxy targets: >= {TARGET_RPS:.0f} rps, added p50 < {TARGET_ADDED_P50_MS} ms, "
        f"faster than aiohttp: {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
