"""Private instances of the reference servers, started and stopped by the benchmarks."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir};
    proxy_temp_path {dir};
    fastcgi_temp_path {dir};
    uwsgi_temp_path {dir};
    scgi_temp_path {dir};
    server {{
        listen 127.0.0.1:{port} backlog=8192;
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
    }}
}}
"""


@contextlib.contextmanager
def _listening(argv: list[str], port: int) -> Iterator[int]:
    """Run ``argv`` until the block ends, once something listens on ``port``."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def nginx() -> Iterator[int | None]:
    """A one-worker nginx answering 200 on every path; yields its port (None if absent)."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mc-bench-nginx-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=tmp, port=port))
        with _listening([binary, "-c", str(conf), "-p", tmp], port) as listening:
            yield listening


BLACKBOX_CONF = """
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


@contextlib.contextmanager
def blackbox_exporter() -> Iterator[int | None]:
    """Debian's prometheus-blackbox-exporter on a free port (None if not installed)."""
    binary = shutil.which("prometheus-blackbox-exporter")
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mc-bench-bbe-") as tmp:
        conf = Path(tmp) / "blackbox.yml"
        conf.write_text(BLACKBOX_CONF)
        argv = [binary, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}"]
        with _listening(argv, port) as listening:
            yield listening


def wrk_requests_per_second(url: str, seconds: int = 10, connections: int = 64) -> float | None:
    """Drive ``url`` with wrk and return its Requests/sec (None if wrk is absent)."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    out = subprocess.run(
        [binary, "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    for line in out.splitlines():
        if "Non-2xx" in line:
            raise RuntimeError(f"wrk saw failed requests on {url}: {line.strip()}")
        if line.startswith("Requests/sec:"):
            return float(line.split(":")[1])
    return None
