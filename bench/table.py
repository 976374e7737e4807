"""One table for every benchmark: target, measured, reference, ratio."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table


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
        if self.measured is None:
            return None
        if self.higher_is_better:
            return self.measured >= self.target
        return self.measured <= self.target

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.reference:
            return None
        if self.higher_is_better:
            return self.measured / self.reference
        return self.reference / self.measured if self.measured else None


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def render(rows: list[Row], console: Console | None = None) -> None:
    table = Table(title="Monitor Center benchmarks")
    for column in ("area", "unit", "target", "measured", "ok", "reference", "ratio", "note"):
        table.add_column(column)
    for r in rows:
        op = ">=" if r.higher_is_better else "<="
        ok = {True: "yes", False: "NO", None: "n/a"}[r.meets_target]
        ratio = "n/a" if r.ratio is None else f"{r.ratio:.2f}x"
        table.add_row(
            r.area,
            r.unit,
            f"{op} {_fmt(r.target)}",
            _fmt(r.measured),
            ok,
            f"{_fmt(r.reference)} ({r.reference_name})",
            ratio,
            r.note,
        )
    (console or Console()).print(table)
