"""Private instances of the reference servers, started and stopped by the benchmarks."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Server:
    """A reference process listening on ``127.0.0.1:port``."""

    port: int
    pid: int
    workdir: Path


@contextlib.contextmanager
def _listening(argv: list[str], port: int, workdir: Path) -> Iterator[Server]:
    """Run ``argv`` until the block ends, once something listens on ``port``.

    Its output goes to ``workdir/output.log``, quoted when it fails to start.
    """
    log = workdir / "output.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        try:
            wait_port(port, timeout=30.0)
        except RuntimeError as error:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{argv[0]} did not start: {error}\n{tail}") from None
        yield Server(port, proc.pid, workdir)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def nginx() -> Iterator[int | None]:
    """A one-worker nginx answering 200 on every path; yields its port (None if absent)."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )  # /usr/sbin is not on every user's PATH
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mc-bench-nginx-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=tmp, port=port))
        with _listening([binary, "-c", str(conf), "-p", tmp], port, Path(tmp)) as server:
            yield server.port


BLACKBOX_CONF = """
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


def _binary(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)


@contextlib.contextmanager
def _private(
    package: str, config_name: str, config: Callable[[Path], str], *flags: str
) -> Iterator[Server | None]:
    """Debian's ``package`` (a Prometheus-family server) on a free loopback port, with
    ``config(workdir)`` as its configuration and ``flags`` (``{dir}``: the temporary
    working directory, where its data goes too); None if not installed."""
    binary = _binary(package)
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"mc-bench-{package}-") as tmp:
        workdir = Path(tmp)
        conf = workdir / config_name
        conf.write_text(config(workdir))
        argv = [binary, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}"]
        argv += [flag.format(dir=tmp) for flag in flags]
        with _listening(argv, port, workdir) as server:
            yield server


def blackbox_exporter() -> contextlib.AbstractContextManager[Server | None]:
    """Debian's prometheus-blackbox-exporter on a free port (None if not installed)."""
    return _private("prometheus-blackbox-exporter", "blackbox.yml", lambda _: BLACKBOX_CONF)


def prometheus(config: Callable[[Path], str]) -> contextlib.AbstractContextManager[Server | None]:
    """Debian's prometheus on a free port with ``config(workdir)`` as its configuration
    and its TSDB in a temporary directory (None if not installed)."""
    return _private("prometheus", "prometheus.yml", config, "--storage.tsdb.path={dir}/data")


def alertmanager(config: str) -> contextlib.AbstractContextManager[Server | None]:
    """Debian's prometheus-alertmanager on a free port, standalone (no cluster gossip:
    one instance, as a single-server operator runs it), state in a temporary directory
    (None if not installed)."""
    return _private(
        "prometheus-alertmanager",
        "alertmanager.yml",
        lambda _: config,
        "--storage.path={dir}/data",
        "--cluster.listen-address=",
    )


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
