"""The benchmark table: ratios read the same way in both directions, missed events and
fall-backs are visible, the Markdown copy carries the legend and the machine."""

from __future__ import annotations

import io
import math

from rich.console import Console

from bench.detection import PUBLISHED_NAME, Reference
from bench.machine import describe
from bench.outages import Outcome
from bench.table import LEGEND, Row, failed, markdown, render


def test_a_ratio_above_one_means_better_than_the_reference_for_rates() -> None:
    row = Row("probe throughput", "probes/s", 3000, 3300, 1100, "blackbox_exporter")
    assert row.ratio == 3.0
    assert row.meets_target is True


def test_a_ratio_above_one_means_better_than_the_reference_for_durations() -> None:
    row = Row("detection", "s", 32, 10, 50, "Prometheus", higher_is_better=False)
    assert row.ratio == 5.0
    assert row.meets_target is True


def test_an_event_that_never_came_reads_never_and_misses_the_target() -> None:
    row = Row("detection", "s", 32, math.inf, 50, "Prometheus", higher_is_better=False)
    text = markdown([row])
    assert "| never |" in text
    assert "| NO |" in text


def test_the_markdown_table_carries_every_row_the_legend_and_the_caption() -> None:
    rows = [
        Row("ingest", "samples/s", 100_000, 70_000, 57_000, "raw COPY, same run"),
        Row("fan-out", "messages lost", 0, 0, None, "", False, "no gaps"),
    ]
    text = markdown(rows, "Started 2025-01-01 on a test machine")
    assert (
        "| 1 | ingest | samples/s | >= 100,000 | 70,000 | NO | 57,000 (raw COPY, same run) |"
        in text
    )
    assert "\n2. no gaps\n" in text
    assert "1.23x" in text
    assert LEGEND in text
    assert text.rstrip().endswith("Started 2025-01-01 on a test machine")


def test_the_printed_table_puts_notes_under_it_by_row_number() -> None:
    out = io.StringIO()
    rows = [Row("sla", "ms", 500, 200, 15_000, "status pages", False, "median of 7")]
    render(rows, Console(file=out, width=120), caption="Started now")
    printed = out.getvalue()
    assert "75.00x" in printed
    assert "  1. median of 7" in printed
    assert printed.rstrip().endswith("Started now")


def test_the_machine_line_names_the_cpu_cores_and_memory() -> None:
    line = describe()
    assert "cores" in line
    assert "RAM" in line
    assert "load average" in line


def test_detection_falls_back_to_the_published_figures_only_without_the_tools() -> None:
    fallback = Reference.of(None, 10.0)
    assert fallback["hook"].value == 41.0
    assert fallback["resolved"].value == 300.0
    assert fallback["hook"].name == PUBLISHED_NAME
    # Published at 10 s: at another interval there is nothing to compare with.
    assert Reference.of(None, 5.0)["hook"].value is None


def test_detection_measured_in_the_same_run_reports_its_worst_run() -> None:
    runs = [Outcome(50.0, 20.0, 19.0, 280.0, 3.0), Outcome(61.0, 31.0, 30.0, 290.0, 5.0)]
    refs = Reference.of(runs, 10.0)
    assert refs["hook"].value == 61.0
    assert refs["feed"].value == 31.0
    assert refs["resolved"].value == 290.0
    assert "same run" in refs["hook"].name


def test_a_crashed_benchmark_is_a_row_that_says_so() -> None:
    row = failed("rss", RuntimeError("the service exited with 2"))
    text = markdown([row])
    assert "| 1 | rss | FAILED |  | n/a | n/a | n/a | n/a |" in text
    assert "1. RuntimeError: the service exited with 2" in text
