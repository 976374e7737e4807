"""One process's membership: heartbeat, endpoint leases, hand-overs and the leader lease.

Every ``heartbeat`` seconds a round runs: heartbeat and renew what this member holds (one
transaction), compute its share of the endpoints by rendezvous hashing over the live
members, claim the leases of that share that are free or held by a dead member
(compare-and-set: the database decides, never timing luck), hand over what it should no
longer hold, and keep or take the leader lease. A member is live while its heartbeat is
younger than ``ttl``, and its leases last as long (a heartbeat writes one row, whatever
the share), so a process that dies has its endpoints claimed by the others within
``ttl`` + ``heartbeat``.

Hand-over at slot boundaries: probes run on a per-endpoint grid that every process
computes alike, and the scheduler only holds jobs for owned endpoints. An endpoint that
should move keeps being probed here until its next probe *starts*; from that moment this
process no longer owns it (the gate in ``probing.py`` refuses further probes), the next
round removes its job and then releases the lease, and the new owner's first probe is on
the grid slot after the moment it claims it. So no slot is probed twice and, as long as
two heartbeats fit in an interval, none is skipped. An endpoint whose probe does not start
within an interval (skipped while in flight, or probed by worker processes) is handed over
at that deadline instead, once its job is gone.

Fencing: the leases this process holds count as its own until ``ttl`` after the start of
the round that renewed them (measured on its monotonic clock, so never past the
database's expiry); a process whose event loop stalls stops probing when that runs out,
until a round renews them. A process that cannot reach the database keeps what it holds
(nobody can be granted a lease without the database; and a center that stops probing when
its database hiccups would break the outage contract): it learns at its first round back
which leases others took meanwhile.

Leader: the live ``serve`` processes are preferred (the alert API answers where the
alert engine runs); a worker takes the lease only when no serve process is live, and
gives it back when one appears.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import psycopg

from monitor_center.cluster.assignment import share_of
from monitor_center.cluster.tasks import cancel
from monitor_center.db.repositories.cluster import ClusterRepository, ClusterView, MemberInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
AssignmentHook = Callable[[frozenset[str]], Awaitable[None]]
DB_ERRORS = (psycopg.Error, OSError, TimeoutError)
PRUNE_EVERY = 600.0
"""Seconds between the leader's clean-ups of dead members and abandoned clusters."""


class Membership:
    """Heartbeats and leases of one process; see the module docstring.

    ``apply`` is awaited with the endpoints this process owns whenever that set changes
    (before any lease is released, so the scheduler has dropped a job before another
    process may claim its endpoint).
    """

    def __init__(
        self,
        repo: ClusterRepository,
        me: MemberInfo,
        apply: AssignmentHook,
        *,
        heartbeat: float,
        ttl: float,
    ) -> None:
        self._repo = repo
        self.me = me
        self._apply = apply
        self._heartbeat = heartbeat
        self._ttl = ttl
        self.cluster = ""
        self._intervals: dict[str, float] = {}
        self._held: set[str] = set()
        self._leaving: dict[str, float] = {}  # endpoint -> deadline for its last probe
        self._handed: set[str] = set()  # last probe started: released at the next round
        self._applied: frozenset[str] | None = None
        self._valid_until = 0.0
        self._reachable = True
        self._leading = False
        self._leader: str | None = None
        self._members: tuple[MemberInfo, ...] = ()
        self._pruned_at: float | None = None
        # The share only changes with the members or the endpoints (hashing 10,000
        # endpoints for 4 members takes ~80 ms: not at every heartbeat).
        self._share_cache: tuple[tuple[str, ...], set[str]] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.leadership_changed = asyncio.Event()
        """Set whenever ``leading`` flips (whoever waits on it clears it)."""

    # What the rest of the process asks --------------------------------------------

    def owns(self, endpoint_id: str) -> bool:
        """May this process probe the endpoint right now (the per-probe gate)?"""
        if endpoint_id not in self._held or endpoint_id in self._handed:
            return False
        return not self._reachable or _now() < self._valid_until

    @property
    def owned(self) -> frozenset[str]:
        """The endpoints this process should have scheduled."""
        return frozenset(self._held - self._handed)

    @property
    def leaving(self) -> frozenset[str]:
        """Owned endpoints waiting for their last probe here before they move."""
        return frozenset(self._leaving)

    @property
    def reachable(self) -> bool:
        """False since a round failed to reach the database, until one succeeds."""
        return self._reachable

    @property
    def leading(self) -> bool:
        """True while this process holds the leader lease."""
        return self._leading

    @property
    def leader(self) -> str | None:
        """The member id holding the leader lease, as of the last round."""
        return self._leader

    @property
    def members(self) -> tuple[MemberInfo, ...]:
        """The live members as of the last round (this one included)."""
        return self._members

    @property
    def alone(self) -> bool:
        """True when no other live member shares this cluster (as of the last round)."""
        return all(m.id == self.me.id for m in self._members)

    def probe_started(self, endpoint_id: str) -> None:
        """A probe of the endpoint just started: if it is being handed over, that was
        the last one here."""
        if self._leaving.pop(endpoint_id, None) is not None:
            self._handed.add(endpoint_id)

    # Life cycle ----------------------------------------------------------------------

    async def start(self, cluster: str, intervals: Mapping[str, float]) -> None:
        """Join ``cluster`` with these endpoints (id -> interval) and run a first round,
        so a lone process owns its whole fleet before its scheduler starts."""
        await self.reconfigure(cluster, intervals)
        self._task = asyncio.create_task(self._run(), name="cluster-membership")

    async def reconfigure(self, cluster: str, intervals: Mapping[str, float]) -> None:
        """Follow a new config: its cluster and endpoints; runs a round at once."""
        async with self._lock:
            if cluster != self.cluster and self.cluster:
                # Another config is another cluster: what was held there goes back (the
                # next heartbeat frees the endpoint leases; the leader lease goes now).
                await self._repo.release_leader(self.me.id, self.cluster)
                self._held.clear()
                self._leaving.clear()
                self._handed.clear()
            self.cluster, self._intervals = cluster, dict(intervals)
            self._share_cache = None
            await self._repo.ensure_leases(cluster, list(intervals))
            await self._round()

    async def stop(self) -> None:
        """Stop the rounds and leave: every lease goes back at once."""
        await cancel(self._task)
        self._task = None
        async with self._lock:
            try:
                await self._repo.leave(self.me.id)
            except DB_ERRORS as exc:
                log.warning("cluster: could not leave cleanly (%s); leases will expire", exc)
            self._held.clear()
            self._set_leading(False)

    # Rounds --------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                async with self._lock:
                    await self._round()
            except DB_ERRORS as exc:
                if self._reachable:
                    log.warning(
                        "cluster: database unreachable (%s); keeping %d endpoint(s)%s",
                        str(exc).strip().splitlines()[0] if str(exc).strip() else "timeout",
                        len(self.owned),
                        " and the leader lease" if self._leading else "",
                    )
                self._reachable = False
            except Exception:  # a bug must not end the heartbeat for good
                log.exception("cluster: round failed")

    async def _round(self) -> None:
        started = _now()
        view = await self._beat()
        self._held = set(view.held)
        mine = self._mine(tuple(m.id for m in view.members))
        self._plan_handovers(mine)
        live = {m.id for m in view.members}
        wanted = [e for e in mine if e not in self._held and view.taken.get(e) not in live]
        dead = {view.taken[e] for e in wanted if e in view.taken}
        self._held |= await self._db(self._repo.claim(self.me.id, self.cluster, wanted, dead))
        owned = self.owned
        if owned != self._applied:
            await self._apply_staying_live(owned)
            self._applied = owned
        if self._handed:
            await self._db(self._repo.release(self.me.id, self.cluster, self._handed))
            self._held -= self._handed
            self._handed.clear()
        await self._lead(view, started)

    async def _beat(self) -> ClusterView:
        """Heartbeat: this member stays live and its leases stay its own."""
        started = _now()
        view = await self._db(self._repo.beat(self.me, self.cluster, self._ttl))
        if not self._reachable:
            log.warning("cluster: database reachable again; %d lease(s) kept", len(view.held))
        self._reachable = True
        self._valid_until = started + self._ttl
        self._members = view.members
        return view

    async def _apply_staying_live(self, owned: frozenset[str]) -> None:
        """``apply`` without a time bound (restarting probe worker processes may take
        longer than a ttl; a lease is released only once its job is gone), heartbeating
        meanwhile so that the leases stay this member's."""

        async def keep_alive() -> None:
            while True:
                await asyncio.sleep(self._heartbeat)
                try:
                    view = await self._beat()
                except DB_ERRORS:
                    self._reachable = False
                    continue
                self._held &= view.held  # claims wait for the next round

        beating = asyncio.create_task(keep_alive(), name="cluster-keep-alive")
        try:
            await self._apply(owned)
        finally:
            await cancel(beating)

    async def _db(self, call: Awaitable[T]) -> T:
        """A database call, bounded: a database that hangs counts as unreachable."""
        async with asyncio.timeout(max(self._ttl, self._heartbeat)):
            return await call

    def _mine(self, members: tuple[str, ...]) -> set[str]:
        if self._share_cache is None or self._share_cache[0] != members:
            self._share_cache = (members, share_of(self.me.id, self._intervals, members))
        return self._share_cache[1]

    def _plan_handovers(self, mine: set[str]) -> None:
        """Mark what should move (released after its next probe starts, or at a deadline)."""
        now = _now()
        self._handed &= self._held
        self._handed -= mine  # wanted back before it was released: keep it
        for endpoint_id in self._held - mine - self._handed:
            if endpoint_id not in self._intervals:  # gone from the config: at once
                self._handed.add(endpoint_id)
            elif endpoint_id not in self._leaving:
                self._leaving[endpoint_id] = now + self._intervals[endpoint_id] + self._heartbeat
        for endpoint_id, deadline in list(self._leaving.items()):
            if endpoint_id in mine or endpoint_id not in self._held:
                del self._leaving[endpoint_id]
            elif deadline <= now:
                del self._leaving[endpoint_id]
                self._handed.add(endpoint_id)

    async def _lead(self, view: ClusterView, started: float) -> None:
        me = self.me
        serve_elsewhere = any(m.role == "serve" and m.id != me.id for m in view.members)
        leading = view.leader == me.id
        if leading and me.role == "worker" and serve_elsewhere:
            await self._db(self._repo.release_leader(me.id, self.cluster))
            leading = False
            log.info("cluster: leader lease handed to a serve process")
        elif view.leader is None and (me.role == "serve" or not serve_elsewhere):
            term = await self._db(self._repo.claim_leader(me.id, self.cluster, self._ttl))
            leading = term is not None
        self._leader = me.id if leading else (None if view.leader == me.id else view.leader)
        self._set_leading(leading)
        if leading and (self._pruned_at is None or started - self._pruned_at >= PRUNE_EVERY):
            self._pruned_at = started
            await self._db(self._repo.prune(keep_for=PRUNE_EVERY))

    def _set_leading(self, leading: bool) -> None:
        if leading != self._leading:
            self._leading = leading
            log.info("cluster: %s the leader lease", "took" if leading else "gave up")
            self.leadership_changed.set()


def _now() -> float:
    return asyncio.get_running_loop().time()
