"""The center alerts on its own storage trouble: straight through a channel's transport
(no outbox row, the outbox being a table of the database that is away), after the
configured time, and again when writes succeed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.clock import FrozenClock
from monitor_center.config import parse_config_text
from monitor_center.config.errors import ConfigError
from monitor_center.service import Service
from monitor_center.settings import Settings
from monitor_center.storage_alarm import RULE, StorageAlarm
from tests.outage.center import running_center
from tests.receivers import Receiver, Reply, SmtpReceiver

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


@dataclass
class FakeWriter:
    """A writer's health as the alarm reads it."""

    failing: float = 0.0
    pending: int = 0
    spooled: int = 0

    def failing_for(self) -> float:
        return self.failing


def _alarm_config(channels: str, after: str = "60s") -> str:
    return f"""
center:
  name: Trung tâm giám sát
  storage_alert: {{channels: [{channels.split(":")[0]}], after: {after}}}
channels:
  - {channels.split(":", 1)[1]}
"""


async def test_the_center_alerts_on_its_storage_trouble_and_its_recovery(
    db_url: str, tmp_path: Path
) -> None:
    async with Receiver() as hook:
        extra = f"""
center:
  storage_alert: {{channels: [noc], after: 1s}}
channels:
  - {{id: noc, kind: webhook, url: "{hook.url}/hook"}}
"""
        async with running_center(db_url, tmp_path, extra=extra) as center:
            await center.proxy.cut()
            firing = (await hook.wait_for_requests(1, timeout=15))[0].json
            assert hook.requests[0].path == "/hook"
            assert firing["status"] == "firing"
            labels = firing["alerts"][0]["labels"]
            assert (labels["rule"], labels["subject"], labels["severity"]) == (
                RULE,
                "database",
                "critical",
            )
            assert "cannot write to its database" in firing["alerts"][0]["annotations"]["summary"]
            await center.proxy.restore()
            resolved = (await hook.wait_for_requests(2, timeout=20))[1].json
            assert resolved["status"] == "resolved"
            assert resolved["alerts"][0]["startsAt"] == firing["alerts"][0]["startsAt"]
        assert len(hook.requests) == 2
        assert center.count("SELECT count(*) FROM notifications") == 0, "no outbox row"


async def test_no_storage_alert_goes_out_before_the_configured_time() -> None:
    async with Receiver() as hook:
        config = parse_config_text(
            _alarm_config(f'noc:{{id: noc, kind: webhook, url: "{hook.url}"}}'),
            filename="c.yaml",
            env={},
        )
        writer = FakeWriter()
        alarm = StorageAlarm(lambda: [writer], config, FrozenClock(T0))
        writer.failing = 59.0
        await alarm.check_once()
        assert not alarm.firing and hook.requests == []
        writer.failing = 60.0
        await alarm.check_once()
        assert alarm.firing and len(hook.requests) == 1
        await alarm.check_once()
        assert len(hook.requests) == 1, "one notice per outage"


async def test_the_storage_alert_reaches_an_email_channel() -> None:
    async with SmtpReceiver() as smtp:
        channel = (
            f"mail:{{id: mail, kind: email, to: [truc-ban@example.gov.vn],"
            f" smtp_host: {smtp.host}, smtp_port: {smtp.port}}}"
        )
        config = parse_config_text(_alarm_config(channel), filename="c.yaml", env={})
        writer = FakeWriter(failing=75.0, pending=1234, spooled=1000)
        alarm = StorageAlarm(lambda: [writer], config, FrozenClock(T0))
        await alarm.check_once()
        message = (await smtp.wait_for_messages(1))[0]
        assert RULE in str(message["Subject"]) and "FIRING" in str(message["Subject"])
        body = message.get_body(preferencelist=("plain",))
        assert body is not None and "1234 results and readings kept (1000 on disk)" in str(
            body.get_content()
        )
        writer.failing = 0.0
        await alarm.check_once()
        assert "RESOLVED" in str((await smtp.wait_for_messages(2))[1]["Subject"])


async def test_an_undelivered_storage_alert_is_retried_and_its_recovery_follows_it() -> None:
    async with Receiver() as hook:
        hook.script(Reply(503), Reply(503))
        config = parse_config_text(
            _alarm_config(f'noc:{{id: noc, kind: webhook, url: "{hook.url}"}}'),
            filename="c.yaml",
            env={},
        )
        now = [0.0]
        writer = FakeWriter(failing=61.0)
        alarm = StorageAlarm(lambda: [writer], config, FrozenClock(T0), monotonic=lambda: now[0])
        await alarm.check_once()
        writer.failing = 0.0
        await alarm.check_once()  # recovered before the first notice got through
        assert len(hook.requests) == 1, "the retry waits for its back-off"
        for _ in range(3):
            now[0] += 60
            await alarm.check_once()
        statuses = [r.json["status"] for r in hook.requests]
        assert statuses == ["firing", "firing", "firing", "resolved"]


def test_a_storage_alert_naming_an_unknown_channel_is_refused_with_its_key() -> None:
    text = _alarm_config('noc:{id: noc, kind: webhook, url: "http://127.0.0.1:9/"}').replace(
        "[noc]", "[pager]"
    )
    with pytest.raises(ConfigError, match=r"center\.storage_alert\.channels\[0\]: unknown channel"):
        parse_config_text(text, filename="c.yaml", env={})
    # A config built in code skips the loader's checks; the service still refuses it.
    valid = parse_config_text(text.replace("[pager]", "[noc]"), filename="c.yaml", env={})
    alert = valid.center.storage_alert
    assert alert is not None
    center = valid.center.model_copy(
        update={"storage_alert": alert.model_copy(update={"channels": ["pager"]})}
    )
    broken = valid.model_copy(update={"center": center})
    with pytest.raises(ValueError, match=r"center\.storage_alert\.channels\[0\]: unknown"):
        Service(Settings(database_url=SecretStr("postgresql://127.0.0.1:1/none")), broken)
