"""The live view of series: latest values, counter rates across resets, messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import FrozenClock
from core.samples import Sample
from monitor_center.config import parse_config_text
from monitor_center.series.live import SeriesLive, per_minute

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
CONFIG = """
agencies:
  - {id: ngsp, name: NGSP, kind: platform}
series:
  - {id: tx, agency: ngsp, kind: counter, unit: transactions,
     source: {type: prometheus, url: "http://x/metrics", metric: tx_total}}
  - {id: share, agency: ngsp, kind: gauge, unit: "%", target: 30,
     source: {type: json, url: "http://x/kpi", path: "$.v"}}
"""


def _at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.fixture
def live() -> SeriesLive:
    view = SeriesLive(FrozenClock(NOW))
    view.configure(parse_config_text(CONFIG, filename="s.yaml", env={}).series)
    return view


def test_rate_per_minute_handles_a_counter_reset() -> None:
    # +60 in the first minute, then the exporter restarts and counts 30 in the next.
    samples = [Sample(_at(-120), 100.0), Sample(_at(-60), 160.0), Sample(_at(0), 30.0)]
    assert per_minute(samples) == pytest.approx((60.0 + 30.0) / 2)
    assert per_minute(samples[:1]) is None


def test_a_newer_sample_is_a_message_an_older_one_is_not(live: SeriesLive) -> None:
    first = live.observe("share", [Sample(_at(-60), 15.9)])
    assert first == {
        "type": "series",
        "id": "share",
        "agency": "ngsp",
        "kind": "gauge",
        "value": 15.9,
        "unit": "%",
        "target": 30.0,
        "target_direction": "min",
        "time": _at(-60).isoformat(),
    }
    assert live.observe("share", [Sample(_at(-120), 14.0)]) is None  # out of order
    assert live.observe("unknown", [Sample(_at(0), 1.0)]) is None


def test_counter_messages_carry_the_rate_and_the_snapshot_lists_every_series(
    live: SeriesLive,
) -> None:
    live.observe("tx", [Sample(_at(-240), 0.0), Sample(_at(-120), 200.0)])
    message = live.observe("tx", [Sample(_at(-60), 10.0)])  # a reset
    assert message is not None
    assert message["rate_per_minute"] == pytest.approx((200.0 + 10.0) / 3)
    entries = {e["id"]: e for e in live.snapshot()}
    assert entries["tx"]["value"] == 10.0
    assert entries["share"]["value"] is None and "rate_per_minute" not in entries["share"]


def test_samples_older_than_five_minutes_leave_the_rate(live: SeriesLive) -> None:
    live.observe("tx", [Sample(_at(-600), 0.0), Sample(_at(-30), 500.0)])
    (tx,) = [e for e in live.snapshot() if e["id"] == "tx"]
    assert tx["rate_per_minute"] is None  # one sample in the window says nothing
