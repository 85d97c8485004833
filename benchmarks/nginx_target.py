"""A fast loopback HTTP target for the benchmarks: nginx answering 200 "ok" on GET /.

/fail answers 503 with a 400-byte body (soak.py sends 1% of its requests there).

Shared by recorder_overhead.py and proxy_throughput.py (each script runs with this folder
on sys.path). Needs Debian's nginx: apt-get install -y nginx-light.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

NGINX = Path("/usr/sbin/nginx")
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
        location /fail {{ return 503 "{fail_body}"; }}
    }}
}}
"""


def pinned(cpu: int) -> Callable[[], None] | None:
    """A preexec_fn pinning the child to ``cpu`` when the machine has two cores or more."""
    if (os.cpu_count() or 1) < 2:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def nginx_argv(workdir: Path, port: int) -> list[str]:
    """Write an nginx config for ``port`` into ``workdir``; the command that runs it."""
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(dir=workdir, port=port, fail_body="upstream overloaded " * 20)
    )
    return [str(NGINX), "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)]
