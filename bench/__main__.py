"""Run every benchmark and print one table (``make bench``)."""

from __future__ import annotations

import argparse

from bench import probes
from bench.table import Row, render
from monitor_center.runtime import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--endpoints", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="probe worker processes")
    args = parser.parse_args()
    rows: list[Row] = []
    rows += run(probes.run(endpoints=args.endpoints, seconds=args.seconds, workers=args.workers))
    render(rows)


if __name__ == "__main__":
    main()
