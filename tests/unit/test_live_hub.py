"""The live-feed hub: ordering, snapshots, resume from the ring, bounded queues, scope."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from core.clock import FrozenClock
from core.results import Latency, ProbeResult
from monitor_center.live import (
    Hub,
    Subscription,
    SubscriptionClosed,
    alert_message,
    endpoint_message,
)
from monitor_center.state import EndpointView

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _snapshot() -> dict[str, Any]:
    return {
        "endpoints": [
            {"id": "ngsp-api", "agency": "ngsp", "state": "up"},
            {"id": "ha-noi-portal", "agency": "ha-noi", "state": "down"},
        ],
        "agencies": [{"id": "ngsp", "name": "NGSP"}, {"id": "ha-noi", "name": "Hà Nội"}],
    }


def _hub(**kwargs: Any) -> Hub:
    return Hub(snapshot=_snapshot, **kwargs)


def _event(n: int, agency: str = "ngsp") -> dict[str, Any]:
    return {"type": "endpoint", "id": f"e{n}", "agency": agency, "n": n}


async def _read(subscription: Subscription, count: int) -> list[dict[str, Any]]:
    return [await asyncio.wait_for(subscription.get(), 1) for _ in range(count)]


async def _nothing_waiting(subscription: Subscription) -> bool:
    try:
        await asyncio.wait_for(subscription.get(), 0.05)
    except TimeoutError:
        return True
    return False


async def test_every_published_message_gets_a_strictly_increasing_seq() -> None:
    hub = _hub(first_seq=100)
    seqs = [hub.publish(_event(i)) for i in range(50)]
    assert seqs == list(range(101, 151))
    assert hub.seq == 150


async def test_a_new_subscriber_gets_a_snapshot_first_then_the_deltas_in_order() -> None:
    hub = _hub()
    hub.publish(_event(0))
    subscription = hub.subscribe()
    snapshot = await subscription.get()
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 1
    assert snapshot["endpoints"] == _snapshot()["endpoints"]
    for i in range(1, 4):
        hub.publish(_event(i))
    deltas = await _read(subscription, 3)
    assert [d["seq"] for d in deltas] == [2, 3, 4]
    assert [d["n"] for d in deltas] == [1, 2, 3]


async def test_the_snapshot_is_taken_when_read_and_covers_what_was_queued_before() -> None:
    state = {"version": 0}
    hub = Hub(snapshot=lambda: dict(state))
    subscription = hub.subscribe()
    state["version"] = 2
    hub.publish(_event(1))
    hub.publish(_event(2))
    snapshot = await subscription.get()
    assert snapshot == {"type": "snapshot", "seq": 2, "version": 2}
    assert await _nothing_waiting(subscription)
    hub.publish(_event(3))
    assert (await subscription.get())["seq"] == 3


async def test_resuming_replays_exactly_the_missed_messages_and_no_snapshot() -> None:
    hub = _hub()
    for i in range(10):
        hub.publish(_event(i))
    subscription = hub.subscribe(since=6)
    replayed = await _read(subscription, 4)
    assert [m["seq"] for m in replayed] == [7, 8, 9, 10]
    assert await _nothing_waiting(subscription)


async def test_resuming_when_up_to_date_waits_for_the_next_delta() -> None:
    hub = _hub()
    for i in range(3):
        hub.publish(_event(i))
    subscription = hub.subscribe(since=3)
    assert await _nothing_waiting(subscription)
    hub.publish(_event(3))
    assert (await subscription.get())["seq"] == 4


async def test_the_oldest_message_still_in_the_ring_can_be_resumed_from_just_before() -> None:
    hub = _hub(ring_size=5)
    for i in range(12):
        hub.publish(_event(i))  # the ring now holds seqs 8..12
    subscription = hub.subscribe(since=7)
    assert [m["seq"] for m in await _read(subscription, 5)] == [8, 9, 10, 11, 12]


async def test_a_since_one_past_the_ring_gets_a_snapshot() -> None:
    hub = _hub(ring_size=5)
    for i in range(12):
        hub.publish(_event(i))
    subscription = hub.subscribe(since=6)  # seq 7 fell out of the ring
    first = await subscription.get()
    assert first["type"] == "snapshot" and first["seq"] == 12
    assert await _nothing_waiting(subscription)


@pytest.mark.parametrize("since", [-1, 13, 10**9])
async def test_a_since_the_hub_never_issued_gets_a_snapshot(since: int) -> None:
    hub = _hub()
    for i in range(12):
        hub.publish(_event(i))
    first = await hub.subscribe(since=since).get()
    assert first["type"] == "snapshot" and first["seq"] == 12


async def test_a_backlog_larger_than_the_queue_is_sent_as_a_snapshot() -> None:
    hub = _hub(queue_size=3)
    for i in range(10):
        hub.publish(_event(i))
    first = await hub.subscribe(since=5).get()
    assert first["type"] == "snapshot"


async def test_a_full_queue_resyncs_the_slow_subscriber_without_blocking_anyone() -> None:
    clock = FrozenClock(T0)
    hub = _hub(queue_size=4, clock=clock)
    slow = hub.subscribe(since=0)
    healthy = hub.subscribe(since=0)
    received: list[int] = []
    for i in range(6):
        hub.publish(_event(i))  # a plain call: returns at once, whoever reads or not
        received.append((await healthy.get())["seq"])
    assert received == [1, 2, 3, 4, 5, 6]
    assert slow.resyncs == 1 and not slow.closed
    snapshot = await slow.get()
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 6
    hub.publish(_event(7))
    assert (await slow.get())["seq"] == 7


async def test_a_subscriber_that_keeps_falling_behind_is_dropped() -> None:
    clock = FrozenClock(T0)
    hub = _hub(queue_size=2, clock=clock, max_resyncs=2, resync_window=60)
    slow = hub.subscribe(since=0)
    for i in range(6):  # overflows at the 3rd and 5th message: resynced twice
        hub.publish(_event(i))
    assert (slow.resyncs, slow.closed) == (2, False)
    hub.publish(_event(6))  # the third overflow within the window
    assert slow.closed and slow.dropped and hub.subscribers == 0
    with pytest.raises(SubscriptionClosed):
        await slow.get()


async def test_overflows_spread_beyond_the_window_only_resync() -> None:
    clock = FrozenClock(T0)
    hub = _hub(queue_size=1, clock=clock, max_resyncs=1, resync_window=60)
    slow = hub.subscribe(since=0)
    for i in range(6):
        hub.publish(_event(i))
        hub.publish(_event(i))
        clock.advance(61)
        assert (await slow.get())["type"] == "snapshot"
    assert not slow.closed and slow.resyncs == 6


async def test_a_dropped_subscriber_wakes_whoever_waits_for_its_closing() -> None:
    hub = _hub(queue_size=1, max_resyncs=0)
    slow = hub.subscribe(since=0)
    waiter = asyncio.create_task(slow.wait_closed())
    hub.publish(_event(1))
    hub.publish(_event(2))
    await asyncio.wait_for(waiter, 1)
    assert slow.dropped


async def test_a_waiting_reader_is_woken_by_a_publish_and_by_close() -> None:
    hub = _hub()
    subscription = hub.subscribe(since=0)
    reader = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    hub.publish(_event(1))
    assert (await asyncio.wait_for(reader, 1))["seq"] == 1
    reader = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    subscription.close()
    with pytest.raises(SubscriptionClosed):
        await asyncio.wait_for(reader, 1)
    assert hub.subscribers == 0


async def test_async_iteration_ends_when_the_subscription_closes() -> None:
    hub = _hub()
    subscription = hub.subscribe(since=0)
    hub.publish(_event(1))
    hub.publish(_event(2))
    seen = []
    async for message in subscription:
        seen.append(message["seq"])
        if len(seen) == 2:
            subscription.close()
    assert seen == [1, 2]


async def test_an_agency_scoped_subscriber_sees_only_its_agency() -> None:
    hub = _hub()
    scoped = hub.subscribe(agency="ha-noi")
    snapshot = await scoped.get()
    assert [e["id"] for e in snapshot["endpoints"]] == ["ha-noi-portal"]
    assert [a["id"] for a in snapshot["agencies"]] == ["ha-noi"]
    hub.publish(_event(1, agency="ngsp"))
    hub.publish(_event(2, agency="ha-noi"))
    hub.publish({"type": "series", "id": "national", "agency": None})
    assert (await scoped.get())["n"] == 2
    assert await _nothing_waiting(scoped)
    resumed = hub.subscribe(since=0, agency="ha-noi")
    assert [m["seq"] for m in await _read(resumed, 1)] == [2]
    assert await _nothing_waiting(resumed)


async def test_messages_are_offered_as_compact_json_text() -> None:
    hub = _hub()
    subscription = hub.subscribe(since=0)
    hub.publish({"type": "endpoint", "id": "ha-noi-portal", "agency": "ha-noi", "name": "Hà Nội"})
    text = await subscription.get_text()
    assert json.loads(text)["seq"] == 1
    assert "Hà Nội" in text and ", " not in text


@pytest.mark.parametrize(
    "message",
    [
        {"id": "no-type"},
        {"type": "snapshot"},
        {"type": "endpoint", "at": T0},
        {"type": "endpoint", "latency_ms": float("nan")},
    ],
)
async def test_a_message_json_cannot_carry_is_refused_without_using_a_seq(
    message: dict[str, Any],
) -> None:
    hub = _hub()
    with pytest.raises((TypeError, ValueError)):
        hub.publish(message)
    assert hub.seq == 0


def test_an_endpoint_message_carries_the_new_state_and_the_previous_one() -> None:
    result = ProbeResult(
        "ha-noi-portal", T0, ok=False, latency=Latency(0.1234), status=503, reason="status 503"
    )
    view = EndpointView("ha-noi-portal", "ha-noi", "down", 10.0, result)
    assert endpoint_message(view, previous="up") == {
        "type": "endpoint",
        "id": "ha-noi-portal",
        "agency": "ha-noi",
        "state": "down",
        "latency_ms": 123.4,
        "reason": "status 503",
        "at": "2026-11-22T12:00:00+00:00",
        "previous": "up",
    }


@dataclass(frozen=True)
class _Flags:
    inhibited: bool
    silenced: bool


def test_an_alert_message_turns_datetimes_and_dataclasses_into_json() -> None:
    message = alert_message(
        id="a1",
        state="firing",
        rule="portal-down",
        subject="ha-noi-portal",
        severity="critical",
        agency="ha-noi",
        summary="ha-noi-portal is down",
        started_at=T0,
        flags=_Flags(inhibited=False, silenced=True),
        resolved_at=None,
    )
    assert message["type"] == "alert" and message["started_at"] == "2026-11-22T12:00:00+00:00"
    assert message["flags"] == {"inhibited": False, "silenced": True}
    assert message["acknowledged_by"] is None and "resolved_at" in message
    assert Hub().publish(message) == 1
