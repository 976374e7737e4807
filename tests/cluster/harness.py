"""``monitor-center worker`` subprocesses on one scratch database, and what the database
says about them: live members, who holds which lease, and each endpoint's results laid
on its probe grid."""

from __future__ import annotations

import itertools
import math
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from monitor_center.cluster import owner
from monitor_center.scheduling import stable_offset

CLI = [sys.executable, "-m", "monitor_center.cli"]
INTERVAL = 1.5
"""Seconds between probes of each endpoint."""
HEARTBEAT = 0.2
TTL = 0.8
"""ttl + heartbeat (+ a round) fit in an interval: a dead worker's endpoints are probed
again within two intervals."""
ENDPOINTS = [f"e{n:02d}" for n in range(30)]
VICTIM = "e07"
RULE = "down"


def fleet_yaml(backend: str, hook: str) -> str:
    """The config every worker runs: 30 endpoints on ``backend``, an endpoint_down rule
    and a webhook on ``hook`` for every alert."""
    endpoints = "\n".join(
        f'  - {{id: {e}, agency: ngsp, url: "{backend}/{e}", interval: 1500ms, timeout: 1s}}'
        for e in ENDPOINTS
    )
    return f"""
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
endpoints:
{endpoints}
rules:
  - {{id: {RULE}, kind: endpoint_down, severity: critical, failures: 2}}
channels:
  - {{id: hook, kind: webhook, url: "{hook}/hook"}}
routes:
  - {{channels: [hook]}}
"""


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class Cluster:
    """Workers started with ``spawn``; the database read through ``conn``."""

    db_url: str
    config: Path
    folder: Path
    conn: psycopg.AsyncConnection[tuple[object, ...]]
    workers: list[Worker] = field(default_factory=list)

    def spawn(self) -> Worker:
        """Start one more ``monitor-center worker``."""
        log = self.folder / f"worker-{len(self.workers)}.log"
        env = {
            **os.environ,
            "MONITOR_DATABASE_URL": self.db_url,
            "MONITOR_CLUSTER_HEARTBEAT_INTERVAL": str(HEARTBEAT),
            "MONITOR_CLUSTER_LEASE_TTL": str(TTL),
            "MONITOR_WRITE_FLUSH_INTERVAL": "0.05",
            "MONITOR_RULE_EVAL_INTERVAL": "1",
            "MONITOR_SPOOL_DIR": str(self.folder / "spool"),
            "MONITOR_LOG_LEVEL": "INFO",
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*CLI, "worker", "--config", str(self.config)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        worker = Worker(proc, log)
        self.workers.append(worker)
        return worker

    @property
    def running(self) -> list[Worker]:
        return [w for w in self.workers if w.proc.poll() is None]

    def kill(self, worker: Worker) -> None:
        """SIGKILL: no clean exit, its leases and heartbeat simply stop."""
        worker.proc.kill()
        worker.proc.wait(10)

    def stop_all(self) -> None:
        for worker in self.running:
            worker.proc.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.proc.wait(20)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait(10)

    def logs(self) -> str:
        """The tail of every worker's log (for failure messages)."""
        parts = []
        for n, worker in enumerate(self.workers):
            text = worker.log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- worker {n} (pid {worker.pid}) ---\n" + "\n".join(text))
        return "\n".join(parts)

    async def members(self) -> dict[int, str]:
        """pid -> member id of the live members."""
        rows = await self._rows("SELECT pid, id FROM cluster_members WHERE expires_at > now()")
        return {int(str(pid)): str(member) for pid, member in rows}

    async def holders(self) -> dict[str, str]:
        """endpoint -> live holder of its lease."""
        rows = await self._rows(
            "SELECT l.endpoint_id, l.holder FROM endpoint_leases l"
            " JOIN cluster_members m ON m.id = l.holder WHERE m.expires_at > now()"
        )
        return {str(e): str(h) for e, h in rows}

    async def leader(self) -> str | None:
        rows = await self._rows(
            "SELECT holder FROM leader_leases WHERE holder IS NOT NULL AND expires_at > now()"
        )
        return str(rows[0][0]) if rows else None

    async def settled(self) -> dict[str, str] | None:
        """The lease holders once exactly the running workers are live and every endpoint
        is held by the member rendezvous hashing gives it to (no hand-over pending)."""
        members = await self.members()
        if set(members) != {w.pid for w in self.running}:
            return None
        holders = await self.holders()
        ids = sorted(members.values())
        if any(holders.get(e) != owner(e, ids) for e in ENDPOINTS):
            return None
        return holders

    async def db_now(self) -> datetime:
        rows = await self._rows("SELECT now()")
        value = rows[0][0]
        assert isinstance(value, datetime)
        return value

    async def results(self, since: datetime) -> dict[str, list[datetime]]:
        """Each endpoint's result times since ``since``, oldest first."""
        rows = await self._rows(
            "SELECT endpoint_id, time FROM probe_results WHERE time >= %s ORDER BY time",
            (since,),
        )
        found: dict[str, list[datetime]] = defaultdict(list)
        for endpoint_id, time in rows:
            assert isinstance(time, datetime)
            found[str(endpoint_id)].append(time)
        return found

    async def each_probed(self, since: datetime, times: int) -> bool:
        """True once every endpoint has at least ``times`` results since ``since``."""
        found = await self.results(since)
        return all(len(found.get(e, [])) >= times for e in ENDPOINTS)

    async def _rows(self, sql: str, args: Sequence[object] = ()) -> list[tuple[object, ...]]:
        cur = await self.conn.execute(sql, args)
        return await cur.fetchall()


def slot(endpoint_id: str, time: datetime) -> int:
    """The endpoint's grid slot a probe started at ``time`` belongs to (slots start at
    offset + k * interval, the same in every process; a probe never starts early)."""
    return math.floor((time.timestamp() - stable_offset(endpoint_id, INTERVAL)) / INTERVAL)


def grid_problems(
    results: dict[str, list[datetime]],
    start: datetime,
    end: datetime,
    endpoints: Iterable[str] = ENDPOINTS,
) -> list[str]:
    """What breaks the contract between ``start`` and ``end``: a slot probed twice, or
    more than two intervals (one missed slot) without a result."""
    problems = []
    for e in endpoints:
        slots = [slot(e, t) for t in results.get(e, []) if start <= t <= end]
        twice = sorted(k for k, n in Counter(slots).items() if n > 1)
        if twice:
            problems.append(f"{e}: slot(s) {twice} probed twice")
        edges = [slot(e, start), *sorted(set(slots)), slot(e, end)]
        for a, b in itertools.pairwise(edges):
            if b - a > 2:
                problems.append(f"{e}: no result in slots {a + 1}..{b - 1}")
    return problems
