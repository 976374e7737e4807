"""The spool's file format: JSON lines behind a header, read back exactly; what a crash
leaves half-written is skipped, never fatal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from collectors.series import ReadError, SeriesReading
from core.results import Latency, ProbeResult
from monitor_center.series.writer import READING_CODEC
from monitor_center.spool import (
    SpoolFormatError,
    SpoolMetrics,
    decode_segment,
    encode_items,
    header,
)
from monitor_center.writer import RESULT_CODEC
from tests.outage.spools import spool_at

T0 = datetime(2026, 5, 1, 3, 4, 5, 123456, tzinfo=UTC)

FULL = ProbeResult(
    endpoint_id="ngsp-api",
    time=T0,
    ok=False,
    latency=Latency(total=0.123456789, connect=0.0011, tls=0.0042, first_byte=0.1),
    status=503,
    reason="status 503: Dịch vụ tạm ngừng",
    cert_expiry_days=88.25,
)
BARE = ProbeResult("hue-portal", T0 + timedelta(microseconds=1), True, Latency(total=0.0))


def _segment(codec_kind: str, body: bytes) -> bytes:
    return header(codec_kind) + body


def test_a_probe_result_comes_back_exactly_as_it_was_spooled() -> None:
    data = _segment("results", encode_items(RESULT_CODEC, [FULL, BARE]))
    read = decode_segment(data, RESULT_CODEC)
    assert read.items == [FULL, BARE] and read.skipped == 0
    assert read.items[0].time.tzinfo is not None


def test_a_series_value_and_a_read_error_come_back_exactly() -> None:
    readings = [
        SeriesReading("ngsp-transactions", T0, value=7_613.5),
        SeriesReading(
            "level4-share", T0, error=ReadError("not_json", "expected JSON, got text/html")
        ),
    ]
    data = _segment("series", encode_items(READING_CODEC, readings))
    assert decode_segment(data, READING_CODEC).items == readings


def test_each_item_is_one_line_of_json_after_a_header_line() -> None:
    data = _segment("results", encode_items(RESULT_CODEC, [FULL, BARE]))
    lines = data.decode().splitlines()
    assert lines[0] == '{"format":"monitor-center-spool","version":1,"kind":"results"}'
    assert len(lines) == 3 and json.loads(lines[1])[0] == "ngsp-api"


def test_a_last_line_torn_by_a_crash_is_skipped() -> None:
    whole = encode_items(RESULT_CODEC, [FULL, BARE])
    torn = whole[: len(whole) - 10]  # the second item lost its end and its newline
    read = decode_segment(_segment("results", torn), RESULT_CODEC)
    assert read.items == [FULL] and read.skipped == 1


def test_an_unreadable_line_in_the_middle_is_skipped_and_the_rest_kept() -> None:
    body = encode_items(RESULT_CODEC, [FULL]) + b'{"endpoint": 1}\n' + b"\x00garbage\n"
    body += encode_items(RESULT_CODEC, [BARE])
    read = decode_segment(_segment("results", body), RESULT_CODEC)
    assert read.items == [FULL, BARE] and read.skipped == 2


def test_a_segment_torn_inside_its_header_holds_nothing() -> None:
    read = decode_segment(header("results")[:20], RESULT_CODEC)
    assert read.items == [] and read.skipped == 0


@pytest.mark.parametrize(
    "first_line",
    [
        b'{"format":"monitor-center-spool","version":2,"kind":"results"}\n',
        b'{"format":"monitor-center-spool","version":1,"kind":"series"}\n',
        b'{"format":"something-else","version":1,"kind":"results"}\n',
        b"not json at all\n",
    ],
)
def test_a_segment_of_another_format_version_or_kind_is_refused(first_line: bytes) -> None:
    with pytest.raises(SpoolFormatError, match="not a monitor-center-spool v1 segment"):
        decode_segment(first_line + encode_items(RESULT_CODEC, [FULL]), RESULT_CODEC)


def test_a_spooled_file_of_another_version_is_set_aside_not_replayed(tmp_path: Path) -> None:
    slot = tmp_path / "results" / "slot-0"
    slot.mkdir(parents=True)
    future = b'{"format":"monitor-center-spool","version":9,"kind":"results"}\n{"x":1}\n'
    (slot / "00000001.jsonl").write_bytes(future)
    spool = spool_at(tmp_path, RESULT_CODEC, SpoolMetrics(CollectorRegistry()))
    assert spool.open() == 1
    assert spool.peek(10)[0] == [] and len(spool) == 0
    assert (slot / "00000001.unreadable").read_bytes() == future
    spool.close()
