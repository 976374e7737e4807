"""The detection reference, measured in the same run: Prometheus + blackbox_exporter +
Alertmanager watching the same kind of loopback endpoint at the same interval.

Private instances (temporary directories, free loopback ports; never the packages'
services) run the configuration of ``bench/prom_config.py``. The endpoints, the outage
injection and the timing are ``bench/detection.py``'s own (``Loopback``, ``one_outage``,
the same seeded phases, the same number of runs), so the figures compare like for like:

* outage -> firing notification on the webhook (Alertmanager's post);
* outage -> Prometheus firing the alert: Prometheus also posts its alerts to the loopback
  server, listed as a second Alertmanager, the moment they fire. That is what its own
  UI shows, before Alertmanager's ``group_wait``: the counterpart of the center's feed;
* recovery -> resolved notification on the webhook.

The outages run at the same time, one endpoint each (each its own Alertmanager group):
a resolved notification waits for ``group_interval`` (5 min), and one outage after the
other would take a quarter of an hour. The whole measurement runs in a thread with its
own event loop, beside the center's (both mostly wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bench.outages import Arrivals, Loopback, Outcome, Phases, loopback_server, one_outage
from bench.procs import alertmanager, blackbox_exporter, prometheus
from bench.prom_config import (
    GROUP_INTERVAL,
    GROUP_WAIT,
    alertmanager_config,
    prometheus_config,
    rules,
)


def _ends(alert: dict[str, object]) -> datetime | None:
    """An alert's ``endsAt`` (Go writes nanoseconds, which Python does not parse)."""
    text = str(alert.get("endsAt") or "")
    if not text:
        return None
    return datetime.fromisoformat(re.sub(r"\.\d+", "", text).replace("Z", "+00:00"))


def _prometheus_receiver(pushed: Arrivals) -> web.RouteDef:
    """Alertmanager's v2 alerts route, recording what Prometheus sends: firing alerts
    (``endsAt`` ahead) and resolved ones (``endsAt`` passed)."""

    async def receive(request: web.Request) -> web.Response:
        now = datetime.now(UTC)
        for alert in await request.json():
            ends = _ends(alert)
            state = "resolved" if ends is not None and ends <= now else "firing"
            subject = alert.get("labels", {}).get("subject")
            await pushed.add({"type": "alert", "state": state, "subject": subject})
        return web.Response(text="ok")

    return web.post("/api/v2/alerts", receive)


def _waits(interval: float, failures: int) -> float:
    """How long to wait for any one event before recording it as missed."""
    return GROUP_INTERVAL + GROUP_WAIT + (failures + 3) * interval + 30.0


async def _outages(interval: float, failures: int, phases: list[Phases]) -> list[Outcome] | None:
    loopback, pushed = Loopback(signed=False), Arrivals()
    names = [f"prometheus-{run + 1}" for run in range(len(phases))]
    async with loopback_server(loopback, [_prometheus_receiver(pushed)]) as base:
        targets = [(name, f"{base}/e/{name}") for name in names]
        receiver_port = int(base.rsplit(":", 1)[1])
        with contextlib.ExitStack() as stack:
            bbe = stack.enter_context(blackbox_exporter())
            am = stack.enter_context(alertmanager(alertmanager_config(f"{base}/hook")))
            if bbe is None or am is None:
                return None

            def config(workdir: Path) -> str:
                (workdir / "rules.yml").write_text(rules(interval, failures))
                return prometheus_config(
                    targets,
                    bbe.port,
                    interval,
                    rules_file=str(workdir / "rules.yml"),
                    alertmanagers=(am.port, receiver_port),
                )

            if stack.enter_context(prometheus(config)) is None:
                return None
            wait = _waits(interval, failures)
            runs = [
                one_outage(loopback, pushed, name, failures, pair, wait, "Prometheus firing")
                for name, pair in zip(names, phases, strict=True)
            ]
            return list(await asyncio.gather(*runs))


async def _until(
    stop: threading.Event, interval: float, failures: int, phases: list[Phases]
) -> list[Outcome] | None:
    """``_outages``, cancelled when ``stop`` is set (the center's side failed)."""
    work = asyncio.ensure_future(_outages(interval, failures, phases))
    while not work.done():
        if stop.is_set():
            work.cancel()
        # A threading.Event cannot be awaited: look at it twice a second.
        await asyncio.wait([work], timeout=0.5)
    return work.result()


def measure(
    interval: float, failures: int, phases: list[Phases], stop: threading.Event
) -> list[Outcome] | None:
    """Blocking (run it in a thread): one outage per phase pair, all at once; None when
    Prometheus, Alertmanager or blackbox_exporter is not installed."""
    print(
        f"detection reference: Prometheus + blackbox + Alertmanager, {len(phases)} outages"
        f" at once, every {interval:g}s, for {(failures - 1) * interval:g}s"
        f" (= {failures} failed probes), group_wait {GROUP_WAIT:g}s,"
        f" group_interval {GROUP_INTERVAL:g}s"
    )
    return asyncio.run(_until(stop, interval, failures, phases))
