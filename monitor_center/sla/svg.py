"""Inline SVG charts for the HTML report: no scripts, no external resources.

Every text that comes from data goes through ``esc``; ids are prefixed per chart so
several charts in one page never share a pattern id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape

from monitor_center.sla.kpi import KpiAttainment
from monitor_center.sla.model import DayFigures, EndpointSla, Figures, Incident
from monitor_center.sla.report import fmt_percent, fmt_seconds

LABEL_W = 170
CELL = 16
ROW_H = 18
GREEN, AMBER, RED, GREY, BLUE = "#2e9e4f", "#e8a317", "#d64545", "#c4c4c4", "#3b73c4"


def esc(value: object) -> str:
    """Escaped for text and attribute values alike."""
    return escape(str(value), quote=True)


def colour(availability: float | None) -> str:
    """Green from 99.9 %, amber from 99 %, red below, grey when unknown."""
    if availability is None:
        return GREY
    if availability >= 99.9:
        return GREEN
    return AMBER if availability >= 99.0 else RED


def _hatch(pid: str) -> str:
    return (
        f'<defs><pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#dbe6f6"/>'
        f'<rect width="3" height="6" fill="{BLUE}"/></pattern></defs>'
    )


def _cell(x: int, y: int, day: date, f: Figures | None, pid: str) -> str:
    if f is None:  # after "now": nothing to show yet
        return f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{ROW_H - 4}" class="future"/>'
    only_maintenance = f.known_seconds == 0 and f.unknown_seconds == 0 and f.maintenance_seconds
    fill = f"url(#{pid})" if only_maintenance else colour(f.availability_percent)
    tip = (
        f"{day:%Y-%m-%d}: {fmt_percent(f.availability_percent, 'không rõ')} %"
        f" · gián đoạn {fmt_seconds(f.downtime_seconds)}"
        f" · không rõ {fmt_seconds(f.unknown_seconds)}"
        f" · bảo trì {fmt_seconds(f.maintenance_seconds)}"
    )
    parts = [
        f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{ROW_H - 4}" fill="{fill}">'
        f"<title>{esc(tip)}</title></rect>"
    ]
    if f.maintenance_seconds and not only_maintenance:  # partly planned: a blue underline
        parts.append(f'<rect x="{x}" y="{y + ROW_H - 7}" width="{CELL - 2}" height="3"'
                     f' fill="{BLUE}"/>')  # fmt: skip
    return "".join(parts)


def daily_strip(endpoints: Sequence[EndpointSla], calendar: Sequence[date], pid: str) -> str:
    """One row per endpoint, one cell per local day."""
    width = LABEL_W + CELL * len(calendar) + 4
    height = ROW_H * (len(endpoints) + 1) + 4
    rows = [
        f'<svg width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="Khả dụng theo ngày">',
        _hatch(pid),
    ]
    for i, day in enumerate(calendar):
        if day.day == 1 or i == 0 or day.day % 5 == 0:
            rows.append(f'<text x="{LABEL_W + i * CELL + 7}" y="12" class="tick"'
                        f' text-anchor="middle">{day.day}</text>')  # fmt: skip
    for r, endpoint in enumerate(endpoints):
        y = ROW_H * (r + 1)
        rows.append(f'<text x="0" y="{y + 11}" class="label">{esc(endpoint.id)}</text>')
        figures: dict[date, DayFigures] = {d.date: d for d in endpoint.days}
        for i, day in enumerate(calendar):
            known = figures.get(day)
            rows.append(_cell(LABEL_W + i * CELL, y, day, known.figures if known else None, pid))
    rows.append("</svg>")
    return "".join(rows)


def timeline(incidents: Sequence[Incident], start: datetime, end: datetime, until: datetime) -> str:
    """Incidents as bars on the period's time axis, one row per endpoint."""
    names = sorted({i.endpoint for i in incidents})
    span = max((end - start).total_seconds(), 1.0)
    plot = 640
    width, height = LABEL_W + plot + 10, ROW_H * (len(names) + 1) + 6

    def x(t: datetime) -> float:
        return LABEL_W + plot * min(max((t - start).total_seconds() / span, 0.0), 1.0)

    parts = [
        f'<svg width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="Dòng thời gian sự cố">',
        f'<line x1="{LABEL_W}" y1="{height - 3}" x2="{LABEL_W + plot}" y2="{height - 3}"'
        ' class="axis"/>',
        f'<text x="{LABEL_W}" y="12" class="tick">{esc(f"{start:%Y-%m-%d}")}</text>',
        f'<text x="{LABEL_W + plot}" y="12" class="tick" text-anchor="end">'
        f"{esc(f'{end:%Y-%m-%d}')}</text>",
    ]
    for r, name in enumerate(names):
        y = ROW_H * (r + 1)
        parts.append(f'<text x="0" y="{y + 11}" class="label">{esc(name)}</text>')
        for i in (i for i in incidents if i.endpoint == name):
            x0, x1 = x(i.start), x(i.end or until)
            tip = f"{i.start:%Y-%m-%d %H:%M} · {fmt_seconds(i.duration_seconds)}"
            parts.append(
                f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(x1 - x0, 2.0):.1f}"'
                f' height="{ROW_H - 6}" fill="{RED}"><title>{esc(tip)}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


def kpi_bars(kpis: Sequence[KpiAttainment]) -> str:
    """Per series: its value as a bar, the target as a line, the attainment as text."""
    plot, bar_h = 360, 16
    width, height = LABEL_W + plot + 200, (bar_h + 10) * len(kpis) + 10
    parts = [
        f'<svg width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="KPI so với mục tiêu">'
    ]
    for r, k in enumerate(kpis):
        y = 6 + r * (bar_h + 10)
        top = max(abs(k.value or 0.0), abs(k.target), 1e-9) * 1.1
        parts.append(f'<text x="0" y="{y + 12}" class="label">{esc(k.series)}</text>')
        if k.value is not None:
            w = plot * max(k.value, 0.0) / top
            fill = GREEN if (k.attainment_percent or 0) >= 100 else AMBER
            parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{bar_h}"'
                         f' fill="{fill}"/>')  # fmt: skip
        tx = LABEL_W + plot * max(k.target, 0.0) / top
        parts.append(f'<line x1="{tx:.1f}" y1="{y - 3}" x2="{tx:.1f}" y2="{y + bar_h + 3}"'
                     ' class="target"/>')  # fmt: skip
        value = "không có dữ liệu" if k.value is None else f"{k.value:,.2f}"
        sign = "≥" if k.direction == "min" else "≤"
        text = (f"{value} / {sign} {k.target:,.2f} {k.unit}"
                f" · {fmt_percent(k.attainment_percent, 'không rõ')} %")  # fmt: skip
        parts.append(f'<text x="{LABEL_W + plot + 8}" y="{y + 12}" class="label">'
                     f"{esc(text)}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
