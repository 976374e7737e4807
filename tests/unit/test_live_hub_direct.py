"""The hub's direct path: frames written straight to a caught-up subscriber's connection,
back to the queue while it is backed up, and never out of order."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

from monitor_center.live import Hub, Subscription
from monitor_center.live.frames import text_frame


class Connection:
    """A connection's write side as the hub sees it: takes whole frames until ``full``."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.full = False

    def try_write(self, frame: bytes) -> bool:
        if self.full:
            return False
        self.frames.append(frame)
        return True

    def seqs(self) -> list[int]:
        return [json.loads(p)["seq"] for f in self.frames for p in _payloads(f)]


def _payload(frame: bytes) -> bytes:
    size = frame[1] & 0x7F
    offset = 2
    if size == 126:
        (size,) = struct.unpack("!H", frame[2:4])
        offset = 4
    elif size == 127:
        (size,) = struct.unpack("!Q", frame[2:10])
        offset = 10
    assert frame[0] == 0x81, "a final text frame"
    assert len(frame) == offset + size
    return frame[offset:]


def _payloads(data: bytes) -> list[bytes]:
    """The payloads of the frames one write carried (a coalesced write carries several)."""
    payloads = []
    while data:
        size, offset = data[1] & 0x7F, 2
        if size == 126:
            (size,), offset = struct.unpack("!H", data[2:4]), 4
        elif size == 127:
            (size,), offset = struct.unpack("!Q", data[2:10]), 10
        payloads.append(_payload(data[: offset + size]))
        data = data[offset + size :]
    return payloads


def _event(n: int, agency: str = "ngsp") -> dict[str, Any]:
    return {"type": "endpoint", "id": f"e{n}", "agency": agency, "n": n}


async def _caught_up(hub: Hub) -> tuple[Subscription, Connection]:
    """A subscriber that has read its snapshot and waits for more, with a connection."""
    subscription, connection = hub.subscribe(), Connection()
    subscription.attach(connection)
    assert (await asyncio.wait_for(subscription.get(), 1))["type"] == "snapshot"
    return subscription, connection


async def _reader_waits(subscription: Subscription) -> asyncio.Task[str]:
    """The reader's next ``get_text``, started and parked (as the live route's is)."""
    task = asyncio.create_task(subscription.get_text())
    await asyncio.sleep(0)  # let it reach its wait
    return task


def test_a_frame_is_an_unmasked_final_text_frame_of_any_length() -> None:
    for text in ("", "x" * 125, "ư" * 63, "y" * 126, "z" * 65_535, "w" * 65_536):
        assert _payload(text_frame(text)).decode() == text


async def test_a_caught_up_subscriber_gets_frames_written_at_publish_without_its_reader() -> None:
    hub = Hub(first_seq=10)
    subscription, connection = await _caught_up(hub)
    reader = await _reader_waits(subscription)
    seqs = [hub.publish(_event(i)) for i in range(5)]
    assert connection.seqs() == seqs
    assert not reader.done(), "the reader is not woken for frames already written"
    assert subscription.pending == 0
    assert (hub.sent_direct, hub.handed_to_readers) == (5, 1)
    reader.cancel()


async def test_the_snapshot_goes_through_the_reader_before_any_direct_frame() -> None:
    hub = Hub()
    subscription, connection = hub.subscribe(), Connection()
    subscription.attach(connection)
    first = hub.publish(_event(1))
    assert connection.frames == [], "nothing may overtake the snapshot"
    assert (await subscription.get())["type"] == "snapshot"
    reader = await _reader_waits(subscription)
    second = hub.publish(_event(2))
    assert second > first and connection.seqs() == [second]
    reader.cancel()


async def test_a_backed_up_connection_queues_and_the_reader_sends_in_order() -> None:
    hub = Hub()
    subscription, connection = await _caught_up(hub)
    connection.full = True
    queued = [hub.publish(_event(i)) for i in range(3)]
    assert connection.frames == [] and subscription.pending == 3
    connection.full = False  # drained, but the queue is not empty: still queued
    queued.append(hub.publish(_event(3)))
    assert connection.frames == []
    assert [json.loads(await subscription.get_text())["seq"] for _ in range(4)] == queued
    reader = await _reader_waits(subscription)  # caught up again: direct once more
    direct = hub.publish(_event(4))
    assert connection.seqs() == [direct]
    reader.cancel()


async def test_a_frame_the_reader_holds_is_never_overtaken_by_a_direct_write() -> None:
    hub = Hub()
    subscription, connection = await _caught_up(hub)
    connection.full = True
    held = hub.publish(_event(1))
    connection.full = False
    taken = await subscription.get_text()  # the reader is now sending it, not done yet
    later = hub.publish(_event(2))
    assert json.loads(taken)["seq"] == held
    assert connection.frames == [], "a direct write would overtake the frame in flight"
    assert json.loads(await subscription.get_text())["seq"] == later


async def test_a_backed_up_connection_that_stays_backed_up_is_resynced_then_dropped() -> None:
    hub = Hub(queue_size=2, max_resyncs=1)
    subscription, connection = await _caught_up(hub)
    connection.full = True
    for i in range(7):
        hub.publish(_event(i))
    assert subscription.dropped and hub.subscribers == 0


async def test_an_agency_subscriber_gets_only_its_agencys_frames_directly() -> None:
    hub = Hub()
    subscription, connection = hub.subscribe(agency="ha-noi"), Connection()
    subscription.attach(connection)
    await subscription.get()
    reader = await _reader_waits(subscription)
    hub.publish(_event(1, agency="ngsp"))
    mine = hub.publish(_event(2, agency="ha-noi"))
    assert connection.seqs() == [mine]
    reader.cancel()


async def test_every_caught_up_subscriber_shares_one_encoded_frame() -> None:
    hub = Hub()
    pairs = [await _caught_up(hub) for _ in range(3)]
    readers = [await _reader_waits(s) for s, _ in pairs]
    hub.publish(_event(1))
    frames = [c.frames[0] for _, c in pairs]
    assert all(f is frames[0] for f in frames), "framed once, written to each"
    for reader in readers:
        reader.cancel()


async def _written(connection: Connection, timeout: float = 2.0) -> list[bytes]:
    """The frames once the coalescing timer has written something (fails after timeout)."""
    async with asyncio.timeout(timeout):
        while not connection.frames:  # noqa: ASYNC110 - the hub's timer has no event to await
            await asyncio.sleep(0.001)
    return connection.frames


async def test_frames_within_the_coalescing_window_go_out_in_one_write_in_order() -> None:
    hub = Hub(coalesce=0.01)
    subscription, connection = await _caught_up(hub)
    reader = await _reader_waits(subscription)
    seqs = [hub.publish(_event(i)) for i in range(3)]
    assert connection.frames == [], "held for the window"
    (write,) = await _written(connection)
    assert [json.loads(p)["seq"] for p in _payloads(write)] == seqs
    assert hub.sent_direct == 3 and not reader.done()
    reader.cancel()


async def test_a_snapshot_read_inside_the_window_is_not_followed_by_what_it_covers() -> None:
    hub = Hub(coalesce=60)  # flushed by hand
    subscription, connection = hub.subscribe(), Connection()
    subscription.attach(connection)
    covered = hub.publish(_event(1))
    assert (await subscription.get())["seq"] == covered  # the snapshot, taken now
    reader = await _reader_waits(subscription)
    hub.flush()
    assert connection.frames == [] and subscription.pending == 0
    after = hub.publish(_event(2))
    hub.flush()
    assert connection.seqs() == [after] and after > covered
    reader.cancel()


async def test_a_resume_inside_the_window_gets_each_missed_frame_once() -> None:
    hub = Hub(coalesce=60)
    since = hub.publish(_event(1))
    missed = [hub.publish(_event(i)) for i in (2, 3)]
    subscription, connection = hub.subscribe(since), Connection()
    subscription.attach(connection)
    replayed = [json.loads(await subscription.get_text())["seq"] for _ in missed]
    reader = await _reader_waits(subscription)
    hub.flush()
    later = hub.publish(_event(4))
    hub.flush()
    assert replayed == missed and connection.seqs() == [later]
    reader.cancel()


async def test_a_coalesced_batch_for_a_backed_up_connection_is_queued_frame_by_frame() -> None:
    hub = Hub(coalesce=60)
    subscription, connection = await _caught_up(hub)
    connection.full = True
    seqs = [hub.publish(_event(i)) for i in range(3)]
    hub.flush()
    assert subscription.pending == 3
    assert [json.loads(await subscription.get_text())["seq"] for _ in seqs] == seqs


async def test_agency_subscribers_get_their_part_of_a_coalesced_batch() -> None:
    hub = Hub(coalesce=60)
    everyone, all_frames = await _caught_up(hub)
    scoped, connection = hub.subscribe(agency="ha-noi"), Connection()
    scoped.attach(connection)
    await scoped.get()
    readers = [await _reader_waits(s) for s in (everyone, scoped)]
    seqs = [hub.publish(_event(i, agency)) for i, agency in enumerate(["ngsp", "ha-noi", "ngsp"])]
    hub.flush()
    assert connection.seqs() == [seqs[1]]
    assert all_frames.seqs() == seqs
    for reader in readers:
        reader.cancel()


async def test_a_coalesced_batch_past_every_resync_drops_the_subscriber_and_keeps_nothing() -> None:
    hub = Hub(coalesce=60, queue_size=2, max_resyncs=1)
    subscription, connection = await _caught_up(hub)
    connection.full = True
    for i in range(10):
        hub.publish(_event(i))
    hub.flush()
    assert subscription.dropped and subscription.pending == 0 and hub.subscribers == 0
