"""Run the benchmarks and print one table (``make bench``).

Every benchmark runs by default; ``--only detection`` picks some, ``--skip probes``
leaves some out (both may be repeated). The table comes last, with the date and the
machine; ``--markdown FILE`` writes it in Markdown too (the README's copy).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import traceback
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bench import detection, fanout, hostile, ingest, probes, rss, sla
from bench.machine import describe
from bench.table import Row, failed, markdown, render
from monitor_center.runtime import run

BENCHMARKS = ("probes", "detection", "ingest", "fanout", "sla", "rss", "hostile")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only these")
    parser.add_argument("--skip", action="append", choices=BENCHMARKS, default=[])
    parser.add_argument("--markdown", type=Path, help="also write the table here, in Markdown")
    parser.add_argument(
        "--no-prometheus",
        action="store_true",
        help="do not run Prometheus/Alertmanager references (detection falls back to"
        " PRODUCT.md's figures; the footprint row has no reference)",
    )
    probing = parser.add_argument_group("probes")
    probing.add_argument("--endpoints", type=int, default=5000)
    probing.add_argument("--seconds", type=float, default=20.0)
    probing.add_argument("--workers", type=int, default=2, help="probe worker processes")
    detecting = parser.add_argument_group("detection")
    detecting.add_argument("--interval", type=float, default=10.0, help="probe interval (s)")
    detecting.add_argument("--failures", type=int, default=3, help="of the endpoint_down rule")
    detecting.add_argument("--retry-interval", type=float, default=1.0, help="fast re-probes (s)")
    detecting.add_argument("--runs", type=int, default=3, help="outages per scenario")
    ingesting = parser.add_argument_group("ingest")
    ingesting.add_argument("--samples", type=int, default=500_000, help="samples per run")
    ingesting.add_argument("--series", type=int, default=1_000, help="distinct series")
    fanning = parser.add_argument_group("fanout")
    fanning.add_argument("--clients", type=int, default=1000, help="websocket clients")
    fanning.add_argument("--rate", type=float, default=200.0, help="events published per second")
    fanning.add_argument("--window", type=float, default=20.0, help="seconds of publishing")
    reporting = parser.add_argument_group("sla")
    reporting.add_argument("--sla-endpoints", type=int, default=1000, help="with a year of rollups")
    footprint = parser.add_argument_group("rss")
    footprint.add_argument("--rss-endpoints", type=int, default=10_000, help="endpoints watched")
    footprint.add_argument("--rss-interval", type=float, default=60.0, help="their interval (s)")
    return parser


def _benchmark(name: str, args: argparse.Namespace) -> Coroutine[Any, Any, list[Row]]:
    reference = not args.no_prometheus
    if name == "probes":
        return probes.run(endpoints=args.endpoints, seconds=args.seconds, workers=args.workers)
    if name == "ingest":
        return ingest.run(samples=args.samples, series=args.series)
    if name == "sla":
        return sla.run(endpoints=args.sla_endpoints)
    if name == "hostile":
        return hostile.run()
    if name == "fanout":
        return fanout.run(clients=args.clients, rate=args.rate, seconds=args.window)
    if name == "rss":
        return rss.run(
            endpoints=args.rss_endpoints, interval=args.rss_interval, reference=reference
        )
    return detection.run(
        interval=args.interval,
        failures=args.failures,
        retry_interval=args.retry_interval,
        runs=args.runs,
        reference=reference,
    )


def main() -> None:
    args = _parser().parse_args()
    # APScheduler logs every skipped run: the overloaded probe benchmark skips ~100,000
    # (counted in its own line), which would bury the table.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    chosen = [n for n in BENCHMARKS if n in (args.only or BENCHMARKS) and n not in args.skip]
    started = time.monotonic()
    machine = describe()  # before the runs: the load average says how busy it was
    rows: list[Row] = []
    for name in chosen:
        try:
            rows += run(_benchmark(name, args))
        except Exception as error:  # one crash must not cost the other benchmarks' figures
            traceback.print_exc()
            rows.append(failed(name, error))
    minutes = (time.monotonic() - started) / 60
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    caption = f"Started {machine}. Took {minutes:.1f} min; load average at the end {load}."
    render(rows, caption=caption)
    if args.markdown:
        args.markdown.write_text(markdown(rows, caption))


if __name__ == "__main__":
    main()
