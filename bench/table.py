"""One table for every benchmark: target, measured, reference, ratio.

The ratio is oriented so that above 1 always means better than the reference: measured
/ reference where more is better (probes/s), reference / measured where less is better
(seconds, MB). The target column's ``>=`` or ``<=`` says which way each row reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

COLUMNS = ("area", "unit", "target", "measured", "ok", "reference", "vs ref.", "note")
LEGEND = (
    "vs ref.: how many times better than the reference (> 1x better, < 1x worse):"
    " measured/reference where the target reads >=, reference/measured where it reads <=."
)


@dataclass(frozen=True, slots=True)
class Row:
    """One measured quantity. ``higher_is_better`` decides how the ratio reads."""

    area: str
    unit: str
    target: float
    measured: float | None
    reference: float | None
    reference_name: str
    higher_is_better: bool = True
    note: str = ""

    @property
    def meets_target(self) -> bool | None:
        if self.measured is None or math.isnan(self.measured):
            return None
        if self.higher_is_better:
            return self.measured >= self.target
        return self.measured <= self.target

    @property
    def ratio(self) -> float | None:
        """Better than the reference by this factor (below 1: worse)."""
        if self.measured is None or not self.reference:
            return None
        if self.higher_is_better:
            return self.measured / self.reference
        return self.reference / self.measured if self.measured else None


def failed(area: str, error: BaseException) -> Row:
    """The row of a benchmark that crashed: the others' rows are still worth a table."""
    return Row(area, "FAILED", math.nan, None, None, "", note=f"{type(error).__name__}: {error}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if math.isinf(value):
        return "never"  # an event waited for and not seen before the deadline
    whole = abs(value) >= 100 or value == int(value)
    return f"{value:,.0f}" if whole else f"{value:,.2f}"


def _cells(r: Row) -> tuple[str, ...]:
    op = ">=" if r.higher_is_better else "<="
    ok = {True: "yes", False: "NO", None: "n/a"}[r.meets_target]
    ratio = "n/a" if r.ratio is None or not math.isfinite(r.ratio) else f"{r.ratio:.2f}x"
    reference = _fmt(r.reference) if r.reference is not None else ""
    named = f"{reference} ({r.reference_name})" if reference else r.reference_name
    named = named if r.reference_name else reference
    target = "" if math.isnan(r.target) else f"{op} {_fmt(r.target)}"
    return (r.area, r.unit, target, _fmt(r.measured), ok, named or "n/a", ratio,
            r.note)  # fmt: skip


def render(rows: list[Row], console: Console | None = None, caption: str = "") -> None:
    """Print the table, then each row's note by its number (a notes column would squeeze
    the figures on a terminal), the legend and ``caption``."""
    if console is None:
        console = Console()
        if not console.is_terminal:  # a log file or a pipe: no reason to wrap at 80
            console = Console(width=160)
    table = Table(title="Monitor Center benchmarks")
    table.add_column("#", justify="right")
    for column in COLUMNS[:-1]:
        numeric = column in ("target", "measured", "vs ref.")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric)
    for n, r in enumerate(rows, 1):
        table.add_row(str(n), *_cells(r)[:-1])
    console.print(table)
    for n, r in enumerate(rows, 1):
        if r.note:
            console.print(f"{n:>3}. {r.note}", highlight=False, markup=False)
    console.print(f"{LEGEND}\n{caption}".strip(), highlight=False, markup=False)


def markdown(rows: list[Row], caption: str = "") -> str:
    """The same table in Markdown, for the README: notes numbered under it, as printed."""
    lines = ["| # | " + " | ".join(COLUMNS[:-1]) + " |", "|---|" + "---|" * (len(COLUMNS) - 1)]
    notes = []
    for n, r in enumerate(rows, 1):
        cells = [c.replace("|", "\\|") for c in _cells(r)[:-1]]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
        if r.note:
            notes.append(f"{n}. {r.note}")
    parts = ["\n".join(lines), "\n".join(notes), LEGEND, caption]
    return "\n\n".join(part for part in parts if part) + "\n"
