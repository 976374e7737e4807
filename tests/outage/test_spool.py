"""The spool on disk: order across segments, deletion after commit, the byte cap, and
slots that keep processes apart and let a later process adopt what a dead one left."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from monitor_center.spool import Spool, SpoolMetrics, header
from tests.outage.spools import NUMBERS, spool_at


def _metrics() -> tuple[SpoolMetrics, CollectorRegistry]:
    registry = CollectorRegistry()
    return SpoolMetrics(registry), registry


def _drain(spool: Spool[int], batch: int = 7) -> list[int]:
    out: list[int] = []
    while len(spool):
        items, token = spool.peek(batch)
        out += items
        spool.commit(token, len(items))
    return out


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.jsonl"))


def test_items_come_back_in_the_order_they_were_spooled_across_segments(
    tmp_path: Path,
) -> None:
    metrics, registry = _metrics()
    spool = spool_at(tmp_path, NUMBERS, metrics, max_bytes=64 * 1024)  # 4 KiB segments
    for start in range(0, 3000, 100):
        spool.append(list(range(start, start + 100)))
    assert len(_segments(tmp_path)) > 2
    assert _drain(spool) == list(range(3000))
    assert registry.get_sample_value("monitor_center_spooled_items_total", {"kind": "numbers"})
    replayed = {"kind": "numbers"}
    assert registry.get_sample_value("monitor_center_spool_replayed_items_total", replayed) == 3000
    assert registry.get_sample_value("monitor_center_spool_bytes", replayed) == 0
    assert _segments(tmp_path) == []
    spool.close()
    assert not (tmp_path / "numbers" / "slot-0").exists(), "an empty slot is removed"


def test_a_segment_is_deleted_only_once_every_item_in_it_is_committed(tmp_path: Path) -> None:
    spool = spool_at(tmp_path, NUMBERS, _metrics()[0])
    spool.append([1, 2, 3, 4, 5])
    items, token = spool.peek(3)
    assert items == [1, 2, 3]
    assert len(_segments(tmp_path)) == 1, "peeking removes nothing"
    spool.commit(token, 3)
    assert len(_segments(tmp_path)) == 1 and len(spool) == 2
    items, token = spool.peek(3)
    assert items == [4, 5]
    spool.commit(token, 2)
    assert _segments(tmp_path) == []
    spool.close()


def test_items_spooled_while_the_oldest_are_replayed_come_after_them(tmp_path: Path) -> None:
    spool = spool_at(tmp_path, NUMBERS, _metrics()[0])
    spool.append([1, 2, 3])
    items, token = spool.peek(2)
    spool.append([4, 5])  # the segment being read is sealed: these start a new one
    spool.commit(token, len(items))
    assert _drain(spool) == [3, 4, 5]
    spool.close()


def test_past_the_byte_cap_the_oldest_segments_are_dropped_and_counted(tmp_path: Path) -> None:
    metrics, registry = _metrics()
    dropped: list[int] = []
    spool = spool_at(tmp_path, NUMBERS, metrics, max_bytes=8192, dropped=dropped)
    for start in range(0, 5000, 50):
        spool.append(list(range(start, start + 50)))
    assert spool.size <= 8192
    kept = _drain(spool)
    assert sum(dropped) + len(kept) == 5000, "every item is either kept or counted"
    assert kept == list(range(5000 - len(kept), 5000)), "the newest are kept, in order"
    assert 0 < len(kept) < 5000
    assert registry.get_sample_value("monitor_center_spool_bytes", {"kind": "numbers"}) == 0
    spool.close()


def test_a_batch_peeked_from_a_segment_the_cap_dropped_commits_nothing(tmp_path: Path) -> None:
    dropped: list[int] = []
    spool = spool_at(tmp_path, NUMBERS, _metrics()[0], max_bytes=4096, dropped=dropped)
    spool.append(list(range(100)))
    items, token = spool.peek(10)
    for start in range(100, 1500, 50):  # pushes the first segment out
        spool.append(list(range(start, start + 50)))
    assert dropped and dropped[0] == 100
    spool.commit(token, len(items))
    kept = _drain(spool)
    assert sum(dropped) + len(kept) == 1500 and kept[-1] == 1499
    spool.close()


def test_a_spool_left_behind_is_adopted_by_the_next_spool_and_replayed_first(
    tmp_path: Path,
) -> None:
    first = spool_at(tmp_path, NUMBERS, _metrics()[0])
    first.append([1, 2, 3])
    first.close()  # what a killed process leaves: files, no lock
    second = spool_at(tmp_path, NUMBERS, _metrics()[0])
    assert second.open() == 3
    second.append([4])
    assert _drain(second) == [1, 2, 3, 4]
    second.close()
    assert _segments(tmp_path) == []


def test_a_slot_held_by_a_live_process_is_neither_adopted_nor_written_into(
    tmp_path: Path,
) -> None:
    alive = spool_at(tmp_path, NUMBERS, _metrics()[0])
    alive.append([1, 2])
    other = spool_at(tmp_path, NUMBERS, _metrics()[0])
    assert other.open() == 0
    other.append([3])
    assert [p.parent.name for p in _segments(tmp_path)] == ["slot-0", "slot-1"]
    assert _drain(other) == [3] and _drain(alive) == [1, 2]
    alive.close()
    other.close()


def test_a_left_segment_with_a_torn_last_line_replays_the_whole_lines(tmp_path: Path) -> None:
    slot = tmp_path / "numbers" / "slot-0"
    slot.mkdir(parents=True)
    (slot / "00000001.jsonl").write_bytes(header("numbers") + b"1\n2\n3")
    spool = spool_at(tmp_path, NUMBERS, _metrics()[0])
    spool.open()
    assert _drain(spool) == [1, 2]
    spool.close()
    assert _segments(tmp_path) == []
