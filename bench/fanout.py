"""Fan-out: 1,000 websocket clients on ``/ws/live`` at 200 events/s, one stalled client.

A real ``Service`` (scratch database, one token, no endpoints) serves on loopback in this
process and publishes ``endpoint`` events through ``service.hub.publish``, each carrying
``sent_at`` (``time.time()``). The clients run in separate processes (this module, run as
``python -m bench.fanout URL COUNT``), so the server's CPU is measured apart from theirs;
each client checks that every event arrives, in ``seq`` order, and records the delivery
latency (arrival - ``sent_at``, one machine, one clock). The clients parse frames by hand
(``LeanClient``): a full websocket library per client would spend more CPU than the server
and measure itself. The stalled client is a raw socket that completes the handshake with a
tiny receive buffer and never reads again.

Two waves on the same service: with the stalled client, and without it. The shared feed
(PostgreSQL NOTIFY between processes) is off: the figure is the hub and the websocket
path, not the database hop.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import socket
import sys
import time
from array import array
from asyncio import Semaphore
from asyncio.subprocess import PIPE, Process
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from bench.table import Row
from monitor_center.runtime import run as run_loop

if TYPE_CHECKING:
    from monitor_center.live import Hub
    from monitor_center.service import Service

TOKEN = "bench-fanout-token-0123456789"
TARGET_P99_MS = 250.0
REFERENCE_MS = 55.0
REFERENCE_NAME = "websockets maintainer: ~55 ms per broadcast to 10k clients (PRODUCT.md)"
END = "bench_end"
BUCKETS_PER_MS = 10  # the latency histogram's resolution: 0.1 ms
DRAIN_SECONDS = 5.0  # how long clients may take to catch up once publishing stops
CONFIG = f"""
auth:
  tokens: [{{name: bench, token: {TOKEN}, role: viewer}}]
agencies: [{{id: bo-tai-chinh, name: "Bộ Tài chính", kind: ministry}}]
endpoints: []
"""


# --- the clients' side (run in child processes) -------------------------------------


@dataclass(slots=True)
class Tally:
    """What the clients of one process saw; merged across processes by the server side."""

    clients: int = 0
    refused: int = 0
    finished: int = 0
    received: int = 0
    lost: int = 0
    gaps: int = 0
    resyncs: int = 0
    disorder: int = 0
    max_ms: float = 0.0
    cpu_seconds: float = 0.0
    """The client processes' CPU time, from their start to their report."""
    closed: Counter[str] = field(default_factory=Counter)
    histogram: Counter[int] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        """Merge ``other`` (another process's tally) into this one."""
        for name in (*_COUNTS, "cpu_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_ms = max(self.max_ms, other.max_ms)
        self.closed.update(other.closed)
        self.histogram.update(other.histogram)

    def percentile(self, q: float) -> float | None:
        """The ``q``-quantile of delivery latency in ms (upper bucket edge), None if empty."""
        total = sum(self.histogram.values())
        seen = 0
        for bucket in sorted(self.histogram):
            seen += self.histogram[bucket]
            if seen >= q * total:
                return (bucket + 1) / BUCKETS_PER_MS
        return None

    def to_json(self) -> str:
        counts = {name: getattr(self, name) for name in (*_COUNTS, "max_ms", "cpu_seconds")}
        return json.dumps({**counts, "closed": self.closed, "histogram": self.histogram})

    @classmethod
    def from_json(cls, text: str) -> Tally:
        data: dict[str, Any] = json.loads(text)
        tally = cls(**{k: data[k] for k in (*_COUNTS, "max_ms", "cpu_seconds")})
        tally.closed = Counter(data["closed"])
        tally.histogram = Counter({int(k): v for k, v in data["histogram"].items()})
        return tally


_COUNTS = ("clients", "refused", "finished", "received", "lost", "gaps", "resyncs", "disorder")


@dataclass(slots=True)
class Follower:
    """One client's reading of the feed; ``latencies`` (seconds) is shared per process."""

    tally: Tally
    latencies: array[float]
    received: int = 0
    last: int | None = None
    connected: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once connected (its snapshot came) or given up on."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    """Set at the end marker or when the connection ends."""

    def settle(self, connected: bool) -> None:
        """Record whether this client got on the feed (only the first call counts)."""
        if not self.settled.is_set():
            self.connected = connected
            if connected:
                self.tally.clients += 1
            else:
                self.tally.refused += 1
            self.settled.set()

    def on_text(self, payload: bytes, now: float) -> None:
        """One message: count events, gaps, resyncs, disorder; keep the latency.

        Read with ``bytes.find`` rather than ``json.loads``: the hub writes ``type`` first
        and ``seq`` last, and a thousand clients in two processes must keep up with
        200,000 messages a second on the same machine as the server.
        """
        if payload.startswith(b'{"type":"snapshot"'):
            seq = json.loads(payload)["seq"]
            if self.last is None:
                self.settle(True)
            else:
                self.tally.resyncs += 1
            self.last = seq
            return
        seq = int(payload[payload.rindex(b":") + 1 : -1])
        last, self.last = self.last, seq
        if last is not None and seq <= last:
            self.tally.disorder += 1
        elif last is not None and seq != last + 1:
            self.tally.gaps += 1
        if payload.startswith(_END_PREFIX):
            self.tally.finished += 1
            self.done.set()
        elif payload.startswith(b'{"type":"endpoint"'):
            self.received += 1
            at = payload.index(b'"sent_at":') + 10
            sent_at = float(payload[at : payload.index(b",", at)])
            self.latencies.append(max(0.0, now - sent_at))


_END_PREFIX = b'{"type":"' + END.encode() + b'"'


class LeanClient(asyncio.Protocol):
    """A feed client that speaks just enough RFC 6455 by hand: the handshake, unmasked
    server frames, pongs, close codes. The ``websockets`` client costs ~20 µs of CPU per
    message, which on this machine would measure the clients, not the server."""

    def __init__(self, follower: Follower, request: bytes) -> None:
        self._follower = follower
        self._request = request
        self._buffer = bytearray()
        self._open = False
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._follower.settle(False)  # no-op once connected
        self._follower.done.set()

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self._buffer
        buffer += data
        if not self._open and not self._handshake():
            return
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            length, head = buffer[pos + 1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4]), 4
            elif length == 127:
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10]), 10
            end = pos + head + length
            if end > size:
                break
            self._frame(buffer[pos] & 0x0F, bytes(buffer[pos + head : end]), now)
            pos = end
        del buffer[:pos]

    def _handshake(self) -> bool:
        head_end = self._buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        if not self._buffer.startswith(b"HTTP/1.1 101"):
            self._follower.settle(False)
            assert self._transport is not None
            self._transport.close()
            return False
        del self._buffer[: head_end + 4]
        self._open = True
        return True

    def _frame(self, opcode: int, payload: bytes, now: float) -> None:
        assert self._transport is not None
        if opcode == 1:
            self._follower.on_text(payload, now)
            if self._follower.done.is_set():
                self._transport.close()
        elif opcode == 8:  # closed by the server (1013: fell behind)
            code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
            self._follower.tally.closed[str(code)] += 1
            self._transport.close()
        elif opcode == 9:  # a pong, masked (clients must mask) with a zero key
            self._transport.write(bytes([0x8A, 0x80 | len(payload)]) + bytes(4) + payload)


def _request(host: str, port: int, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def _client(follower: Follower, url: str, gate: Semaphore) -> None:
    """One client: connect (a few at a time), then follow until the end or a close."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = _request(host, port, f"{parts.path}?{parts.query}")
    loop = asyncio.get_running_loop()
    try:
        async with gate:
            transport, _ = await loop.create_connection(
                lambda: LeanClient(follower, request), host, port
            )
            await asyncio.wait_for(follower.settled.wait(), 60)
    except (OSError, TimeoutError):
        follower.settle(False)
        return
    try:
        await follower.done.wait()
    finally:
        transport.close()


async def _clients_main(url: str, count: int) -> None:
    """Run ``count`` clients: ``ready`` once connected; stdin gives the number published."""
    tally, latencies = Tally(), array("d")
    followers = [Follower(tally, latencies) for _ in range(count)]
    gate = Semaphore(50)
    tasks = [asyncio.create_task(_client(f, url, gate)) for f in followers]
    await asyncio.gather(*(f.settled.wait() for f in followers))
    print("ready", tally.clients, flush=True)
    published = int(await asyncio.to_thread(sys.stdin.readline))
    await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    tally.lost = sum(published - f.received for f in followers if f.connected)
    tally.received = len(latencies)
    tally.max_ms = max(latencies, default=0.0) * 1000
    tally.histogram = Counter(int(x * 1000 * BUCKETS_PER_MS) for x in latencies)
    tally.cpu_seconds = _cpu_seconds([os.getpid()])
    print(tally.to_json(), flush=True)


def _client_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("url", help="ws://HOST:PORT/ws/live?token=...")
    parser.add_argument("count", type=int)
    return parser.parse_args()


# --- the server's side (this process) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wave:
    """One measured configuration of the clients."""

    name: str
    stalled: bool


@dataclass(frozen=True, slots=True)
class Options:
    """The load: clients (spread over client processes), events per second, seconds."""

    clients: int
    rate: float
    seconds: float
    processes: int


@dataclass(frozen=True, slots=True)
class Window:
    """The publishing window; CPU in % of one core, over the window."""

    published: int
    rate: float
    server_cpu: float
    clients_cpu: float
    rss_mb: float
    subscribers: tuple[int, int]
    """Subscribed when publishing started, and when it stopped."""
    first_drop: float | None
    """Seconds into the window when a subscriber was first dropped (None: never)."""
    load: float
    """The machine's 1-minute load average when the window started."""
    late_ms: float
    """How late the publisher ran at worst (a busy event loop), in ms."""
    cpu_start: tuple[float, float]
    """CPU seconds of the server and of the client processes when the window started."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One wave's figures."""

    wave: Wave
    tally: Tally
    window: Window
    server_cpu_seconds: float
    """The server's CPU time from the window's start until every client reported."""

    def cost_us(self) -> tuple[float, float]:
        """CPU microseconds per delivered message: (server, clients), window and drain."""
        clients = self.tally.cpu_seconds - self.window.cpu_start[1]
        per = 1e6 / max(self.tally.received, 1)
        return self.server_cpu_seconds * per, clients * per


WAVES = (Wave("stalled client", stalled=True), Wave("no stalled client", stalled=False))


def _event(i: int) -> dict[str, Any]:
    """A realistic ``endpoint`` delta, alternating down and up, stamped ``sent_at``."""
    down = i % 2 == 0
    return {
        "type": "endpoint",
        "id": f"bo-tai-chinh-dichvucong-{i % 50:03d}",
        "agency": "bo-tai-chinh",
        "state": "down" if down else "up",
        "latency_ms": None if down else 84.3,
        "reason": "http_status: 503 Service Unavailable" if down else None,
        "at": datetime.now(UTC).isoformat(),
        "previous": "up" if down else "down",
        "sent_at": time.time(),
    }


async def _publish(hub: Hub, rate: float, seconds: float) -> tuple[int, float, float]:
    """Publish ``rate`` events/s on a fixed schedule for ``seconds`` of wall time.

    Returns (events, elapsed, worst lateness): a busy event loop runs the publisher late,
    and it then catches up in a burst, within the same ``seconds``.
    """
    start = time.monotonic()
    count, late = 0, 0.0
    while (now := time.monotonic()) < start + seconds:
        due = start + count / rate
        if due > now:
            await asyncio.sleep(due - now)
            late = max(late, time.monotonic() - due)  # a wake-up past the end counts too
            continue
        late = max(late, now - due)
        hub.publish(_event(count))
        count += 1
    return count, time.monotonic() - start, late


async def _watch_drops(hub: Hub, expected: int) -> float:
    """Seconds until the hub first has fewer than ``expected`` subscribers (cancel to end)."""
    start = time.monotonic()
    await _until(lambda: hub.subscribers < expected, math.inf)
    return time.monotonic() - start


def _stall(port: int) -> socket.socket:
    """Open the feed on a raw socket with a tiny receive buffer; never read past the 101."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    sock.sendall(_request("127.0.0.1", port, f"/ws/live?token={TOKEN}"))
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # a byte at a time: leave the frames unread
        head += sock.recv(1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"stalled client refused: {head[:40]!r}")
    return sock


async def _spawn(url: str, count: int, processes: int) -> list[Process]:
    """Start the client processes (they print ``ready N`` once their clients are on)."""
    shares = [count // processes + (i < count % processes) for i in range(processes)]
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fanout",
            url,
            str(n),
            stdin=PIPE,
            stdout=PIPE,
            limit=1 << 24,
        )
        for n in shares
    ]


async def _ready(procs: list[Process]) -> int:
    """Wait for every client process's ``ready N``; how many clients got on the feed."""
    connected = 0
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line.startswith(b"ready "):
            raise RuntimeError(f"client process failed to start: {line!r}")
        connected += int(line.split()[1])
    return connected


async def _collect(procs: list[Process], published: int) -> Tally:
    """Tell the client processes how many events there were; merge their tallies."""
    total = Tally()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{published}\n".encode())
        await proc.stdin.drain()
    for proc in procs:
        assert proc.stdout is not None
        report = await asyncio.wait_for(proc.stdout.readline(), DRAIN_SECONDS + 30)
        total.add(Tally.from_json(report.decode()))
        await proc.wait()
    return total


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (``/proc/PID/stat``)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def _rss_mb() -> float:
    """This process's resident set (``/proc/self/statm``), in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _until(check: Callable[[], bool], timeout: float) -> bool:
    """Wait (polling: the hub has no event for it) until ``check()``; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def _window(hub: Hub, options: Options, procs: list[Process]) -> Window:
    """Publish for ``options.seconds``; measure the server and the clients meanwhile."""
    server, clients, load = [os.getpid()], [p.pid for p in procs], os.getloadavg()[0]
    cpu0, client0, before = _cpu_seconds(server), _cpu_seconds(clients), hub.subscribers
    watch = asyncio.create_task(_watch_drops(hub, before))
    published, elapsed, late = await _publish(hub, options.rate, options.seconds)
    window = Window(
        published=published,
        rate=published / elapsed,
        server_cpu=100 * (_cpu_seconds(server) - cpu0) / elapsed,
        clients_cpu=100 * (_cpu_seconds(clients) - client0) / elapsed,
        rss_mb=_rss_mb(),
        subscribers=(before, hub.subscribers),
        first_drop=watch.result() if watch.done() else None,
        load=load,
        late_ms=late * 1000,
        cpu_start=(cpu0, client0),
    )
    watch.cancel()
    return window


async def _wave(service: Service, base: str, wave: Wave, options: Options) -> Outcome:
    """One wave: clients up, stalled client in, publish, collect, everyone out."""
    hub, port = service.hub, int(base.rsplit(":", 1)[1])
    url = base.replace("http", "ws", 1) + f"/ws/live?token={TOKEN}"
    procs = await _spawn(url, options.clients, options.processes)
    stalled: socket.socket | None = None
    try:
        connected = await _ready(procs) + wave.stalled
        stalled = await asyncio.to_thread(_stall, port) if wave.stalled else None
        if not await _until(lambda: hub.subscribers >= connected, 30):
            raise RuntimeError(f"{hub.subscribers} subscribers, expected {connected}")
        window = await _window(hub, options, procs)
        hub.publish({"type": END, "published": window.published})
        tally = await _collect(procs, window.published)
        server_cpu = _cpu_seconds([os.getpid()]) - window.cpu_start[0]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
        if stalled is not None:
            stalled.close()
    await _until(lambda: hub.subscribers == 0, 20)
    return Outcome(wave, tally, window, server_cpu)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def _describe(o: Outcome) -> str:
    """The counts behind a wave's figures, for the table's note."""
    t, w = o.tally, o.window
    closed = (
        ", ".join(f"{n} closed {code}" for code, n in sorted(t.closed.items())) or "none closed"
    )
    drop = "" if w.first_drop is None else f"; first drop at {w.first_drop:.1f} s"
    return (
        f"{o.wave.name}: {t.clients:,} clients ({t.refused} refused), {w.published:,} events"
        f" at {w.rate:.0f}/s (publisher up to {w.late_ms:,.0f} ms late); {t.received:,}"
        f" delivered, {t.lost:,} lost, {t.gaps:,} gaps, {t.resyncs:,} resyncs,"
        f" {t.disorder} out of order, {closed}, {t.finished:,} saw the end within"
        f" {DRAIN_SECONDS:g} s; subscribers {w.subscribers[0]:,} -> {w.subscribers[1]:,}{drop}"
    )


def _latency_row(unit: str, o: Outcome, q: float, reference: float | None, note: str) -> Row:
    return Row(
        "fan-out",
        unit,
        TARGET_P99_MS,
        o.tally.percentile(q),
        reference,
        REFERENCE_NAME if reference else "",
        higher_is_better=False,
        note=note,
    )


def _rows(outcomes: list[Outcome]) -> list[Row]:
    """The table's rows: latency per wave, then losses and the server's cost."""
    main, calm = outcomes
    p99, calm_p99 = main.tally.percentile(0.99), calm.tally.percentile(0.99)
    effect = "n/a" if p99 is None or calm_p99 is None else f"{p99 - calm_p99:+,.1f} ms"
    return [
        _latency_row("ms p99", main, 0.99, REFERENCE_MS, _describe(main)),
        _latency_row("ms p50", main, 0.5, None, f"max {_ms(main.tally.max_ms)}; target: p99's"),
        _latency_row(
            "ms p99, no stalled client",
            calm,
            0.99,
            REFERENCE_MS,
            f"stalled client's effect on p99: {effect}; {_describe(calm)}",
        ),
        *_cost_rows(main, calm),
    ]


def _cost_rows(main: Outcome, calm: Outcome) -> list[Row]:
    """Messages lost and the server's CPU and memory (first wave; the other in the notes)."""
    m, (server_us, clients_us) = main.window, main.cost_us()
    lost = (
        "to healthy clients, first wave: skipped for a resync snapshot, or not there"
        f" {DRAIN_SECONDS:g} s after the window; the other: {calm.tally.lost:,}"
    )
    per_core = 1e6 / (server_us or 1)
    cpu = (
        f"one event loop, 100 = a whole core; {server_us:.1f} µs of server CPU per delivered"
        f" message (one core: ~{per_core:,.0f} deliveries/s), clients {clients_us:.1f} µs;"
        f" client processes {m.clients_cpu:.0f} %; RSS {m.rss_mb:.0f} MB; load average"
        f" {m.load:.1f} at the start ({os.cpu_count()} CPUs)"
    )
    return [
        Row("fan-out", "messages lost", 0, main.tally.lost, None, "", False, lost),
        Row("fan-out", "server CPU %", 100, m.server_cpu, None, "", False, cpu),
    ]


async def run(
    clients: int = 1000, rate: float = 200.0, seconds: float = 20.0, processes: int = 2
) -> list[Row]:
    """Measure the three waves against one service on a scratch database."""
    # Imported here: the client processes import this module and need none of the service
    # (it would double their start-up time).
    from pydantic import SecretStr

    from bench.detection import _scratch_database, _serving
    from monitor_center.config import parse_config_text
    from monitor_center.service import Service
    from monitor_center.settings import Settings

    options = Options(clients, rate, seconds, processes)
    config = parse_config_text(CONFIG, filename="bench-fanout", env={})
    outcomes: list[Outcome] = []
    with _scratch_database() as url:
        settings = Settings(database_url=SecretStr(url), live_feed_shared=False)
        service = Service(settings, config)
        async with _serving(service) as base:
            for wave in WAVES:
                print(f"fan-out: {clients:,} clients at {rate:g} events/s, {wave.name}")
                outcomes.append(await _wave(service, base, wave, options))
    return _rows(outcomes)


if __name__ == "__main__":
    _args = _client_args()
    run_loop(_clients_main(_args.url, _args.count))
