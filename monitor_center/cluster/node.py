"""This process as a member of its cluster: membership, shared results and leadership.

The service owns one ``ClusterNode``. It asks the node which endpoints to schedule
(``owned``) and wraps its prober in the node's gate; it hands every result of its own to
``share`` and receives the other members' through ``on_remote``; and it gives the node
the two halves of leadership, ``lead`` (start the once-per-center jobs) and
``step_down`` (stop them), which the node runs, one at a time and under the service's
lock, as the leader lease comes and goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Literal

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool

from alerts.model import Alert
from core.clock import Clock
from core.results import ProbeResult
from monitor_center.cluster.assignment import cluster_key, results_channel
from monitor_center.cluster.follower import FollowerView
from monitor_center.cluster.membership import AssignmentHook, Membership
from monitor_center.cluster.probing import LeasedProber
from monitor_center.cluster.sharing import ResultShare
from monitor_center.cluster.tasks import cancel
from monitor_center.config import Config
from monitor_center.db.repositories.cluster import ClusterRepository, MemberInfo
from monitor_center.scheduling import Prober
from monitor_center.settings import Settings

log = logging.getLogger(__name__)

Role = Literal["serve", "worker"]
Job = Callable[[], Awaitable[None]]


def new_member_id() -> str:
    """Unique per process start: host, pid and a random suffix (pids get reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def advertised_url(settings: Settings, host: str, port: int) -> str:
    """Where the other processes reach this one's API: the setting, else what it serves
    on (the host's name when it listens on every address)."""
    if settings.cluster_advertise_url:
        return settings.cluster_advertise_url
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def intervals(config: Config) -> dict[str, float]:
    """Endpoint id -> probe interval in seconds."""
    return {e.id: e.interval.total_seconds() for e in config.endpoints}


class ClusterNode:
    """See the module docstring. ``apply`` is awaited with the owned endpoints whenever
    they change; ``on_remote`` gets each result another member probed."""

    def __init__(
        self,
        settings: Settings,
        role: Role,
        *,
        apply: AssignmentHook,
        on_remote: Callable[[ProbeResult], None],
        lead: Job,
        step_down: Job,
        lock: asyncio.Lock,
        registry: CollectorRegistry | None = None,
    ) -> None:
        """``registry`` gets the ``monitor_center_cluster_*`` gauges."""
        assert settings.database_url is not None
        self.settings = settings
        self.member = MemberInfo(new_member_id(), role, socket.gethostname(), os.getpid())
        self._url = settings.database_url.get_secret_value()
        self._apply = apply
        self._on_remote = on_remote
        self._lead, self._step_down = lead, step_down
        self._lock = lock
        self.follower: FollowerView | None = None
        """Set in serve processes: the leader's alerts and series while not leading."""
        self._membership: Membership | None = None
        self._share: ResultShare | None = None
        self._leading_jobs = False
        self._watch: asyncio.Task[None] | None = None
        if registry is not None:
            registry.register(ClusterCollector(self))

    @property
    def membership(self) -> Membership:
        assert self._membership is not None, "cluster node not started"
        return self._membership

    # What the service asks ------------------------------------------------------------

    def owns(self, endpoint_id: str) -> bool:
        """The per-probe gate (see ``Membership.owns``)."""
        return self._membership is not None and self._membership.owns(endpoint_id)

    def probe_started(self, endpoint_id: str) -> None:
        if self._membership is not None:
            self._membership.probe_started(endpoint_id)

    def scheduled(self, endpoint_id: str) -> bool:
        """Whether the scheduler should hold a job for the endpoint."""
        return self._membership is not None and endpoint_id in self._membership.owned

    @property
    def leading(self) -> bool:
        """True while this process runs the once-per-center jobs."""
        return self._leading_jobs

    def advertise(self, url: str) -> None:
        """Tell the others where this process's API is (sent with the next heartbeat)."""
        self.member = replace(self.member, api_url=url)
        if self._membership is not None:
            self._membership.me = self.member

    def leader_url(self) -> str | None:
        """The leader's API, when the leader is another process that serves one."""
        membership = self._membership
        if membership is None or membership.leader in (None, self.member.id):
            return None
        found = [m.api_url for m in membership.members if m.id == membership.leader]
        return found[0] if found else None

    def followed_alerts(self) -> list[Alert]:
        """The open alerts as the leader stored them (empty while leading)."""
        return self.follower.open_alerts if self.follower is not None else []

    def gate(self, prober: Prober, clock: Clock) -> LeasedProber:
        """``prober`` behind the lease gate."""
        return LeasedProber(prober, self, clock)

    def share(self, result: ProbeResult) -> None:
        """Announce one of this process's results to the other members, if any."""
        membership = self._membership
        if self._share is not None and membership is not None and not membership.alone:
            self._share.submit(result)

    # Life cycle -----------------------------------------------------------------------

    async def start(self, pool: AsyncConnectionPool, config: Config) -> None:
        """Listen for the others' results, then join and claim a share of the endpoints."""
        s = self.settings
        repo = ClusterRepository(pool)
        self._membership = Membership(
            repo,
            self.member,
            self._apply,
            heartbeat=s.cluster_heartbeat_interval,
            ttl=s.cluster_lease_ttl,
        )
        self._share = ResultShare(repo, self._url, self.member.id, self._on_remote)
        if self.follower is not None:
            self.follower.bind(pool)
        key = cluster_key(config)
        await self._share.start(results_channel(key))
        await self._membership.start(key, intervals(config))
        log.info(
            "cluster %s: member %s (%s), %d member(s) live, %d of %d endpoint(s) here%s",
            key,
            self.member.id,
            self.member.role,
            len(self._membership.members),
            len(self._membership.owned),
            len(config.endpoints),
            ", leader" if self._membership.leading else "",
        )

    async def follow(self) -> None:
        """Start the leader jobs now if this process leads, then follow the lease."""
        await self._reconcile()
        self._watch = asyncio.create_task(self._follow_forever(), name="cluster-leadership")

    async def reconfigure(self, config: Config) -> None:
        """A new config is a new cluster key: switch channel and leases."""
        key = cluster_key(config)
        assert self._share is not None
        await self._share.switch(results_channel(key))
        await self.membership.reconfigure(key, intervals(config))

    async def stop_following(self) -> None:
        """Stop reacting to the leader lease (first thing when the service stops)."""
        await cancel(self._watch)
        self._watch = None

    async def stop(self) -> None:
        """Share the last results and leave: every lease goes back at once."""
        await self.stop_following()
        if self.follower is not None:
            await self.follower.stop()
        if self._share is not None:
            await self._share.stop()
        if self._membership is not None:
            await self._membership.stop()
        self._leading_jobs = False

    # Leadership -----------------------------------------------------------------------

    async def _follow_forever(self) -> None:
        changed = self.membership.leadership_changed
        while True:
            # Also on a timeout: a start that failed is tried again. (asyncio.timeout, not
            # wait_for: on 3.11 wait_for can swallow a cancel that meets the event.)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.cluster_heartbeat_interval):
                    await changed.wait()
            changed.clear()
            try:
                await self._reconcile()
            except Exception:  # logged; the next pass tries again
                log.exception("cluster: starting or stopping the leader jobs failed")

    async def _reconcile(self) -> None:
        async with self._lock:
            leading = self.membership.leading
            if leading and not self._leading_jobs:
                log.info("cluster: leading: alert evaluation, outbox, series polling, rollups")
                if self.follower is not None:
                    await self.follower.stop()
                self._leading_jobs = True
                try:
                    await self._lead()
                except BaseException:
                    await self._step_down()
                    self._leading_jobs = False
                    raise
            elif not leading and self._leading_jobs:
                log.info("cluster: no longer leading; leader jobs stopped")
                self._leading_jobs = False
                await self._step_down()
            if not self._leading_jobs and self.follower is not None:
                await self.follower.follow()  # no-op while already following


class ClusterCollector(Collector):
    """``/metrics``: this process's place in its cluster, read at scrape time."""

    def __init__(self, node: ClusterNode) -> None:
        self._node = node

    def collect(self) -> Iterator[Metric]:
        membership = self._node._membership  # the same module: a friend class
        members = GaugeMetricFamily(
            "monitor_center_cluster_members",
            "Live processes (serve and worker) sharing this process's config and database.",
        )
        held = GaugeMetricFamily(
            "monitor_center_cluster_endpoints_held",
            "Endpoints whose lease this process holds (it probes them).",
        )
        leader = GaugeMetricFamily(
            "monitor_center_cluster_leader",
            "1 while this process runs the once-per-center jobs (alerting, outbox, series"
            " polling, rollups).",
        )
        reachable = GaugeMetricFamily(
            "monitor_center_cluster_database_reachable",
            "0 since a heartbeat failed to reach the database, until one succeeds.",
        )
        if membership is not None:
            members.add_metric([], len(membership.members))
            held.add_metric([], len(membership.owned))
            reachable.add_metric([], 1.0 if membership.reachable else 0.0)
        leader.add_metric([], 1.0 if self._node.leading else 0.0)
        yield from (members, held, leader, reachable)
