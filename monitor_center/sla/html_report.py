"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external
resources), in Vietnamese (``lang="vi"``), readable on screen and on paper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from monitor_center.sla.kpi import KpiAttainment, overall
from monitor_center.sla.model import AgencySla, Figures, Incident
from monitor_center.sla.report import ReportData, fmt_percent, fmt_seconds
from monitor_center.sla.scorecard import score
from monitor_center.sla.svg import (
    AMBER,
    BLUE,
    GREEN,
    GREY,
    RED,
    daily_strip,
    esc,
    kpi_bars,
    timeline,
)

_CSS = f"""
body {{ font-family: "Segoe UI", "Noto Sans", Arial, sans-serif; color: #1d2733; margin: 24px; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 28px 0 6px; }}
h3 {{ font-size: 14px; margin: 14px 0 6px; color: #3a4a5c; }}
.meta {{ color: #5b6b7c; font-size: 12px; }}
table {{ border-collapse: collapse; font-size: 12px; margin: 4px 0 8px; }}
th, td {{ border: 1px solid #d5dbe2; padding: 3px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }} th {{ background: #eef2f6; }}
.unknown {{ color: #7a7a7a; font-style: italic; }}
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px;
  vertical-align: middle; }}
svg text.label {{ font-size: 11px; fill: #1d2733; }}
svg text.tick {{ font-size: 9px; fill: #5b6b7c; }}
svg rect.future {{ fill: none; stroke: #e1e5ea; }} svg line.axis {{ stroke: #9aa5b1; }}
svg line.target {{ stroke: #1d2733; stroke-width: 2; }}
section.agency {{ border-top: 2px solid #1d2733; }}
* {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
@media print {{
  body {{ margin: 0; }} section.agency {{ break-before: page; }}
  section.agency:first-of-type {{ break-before: auto; }}
  table, svg {{ break-inside: avoid; }}
}}
.legend .g {{ background: {GREEN}; }} .legend .a {{ background: {AMBER}; }}
.legend .r {{ background: {RED}; }} .legend .u {{ background: {GREY}; }}
.legend .m {{ background: repeating-linear-gradient(45deg, {BLUE} 0 3px, #dbe6f6 3px 6px); }}
"""

_SUMMARY_HEAD = (
    "Khả dụng (%)", "Gián đoạn", "Không rõ", "Bảo trì", "Lượt kiểm tra", "Lỗi",
    "Sự cố", "MTTA", "MTTR",
)  # fmt: skip


def _pct(value: float | None) -> str:
    if value is None:
        return '<span class="unknown">không rõ</span>'
    return esc(fmt_percent(value))


def _figure_cells(f: Figures) -> list[str]:
    return [
        _pct(f.availability_percent),
        esc(fmt_seconds(f.downtime_seconds)),
        esc(fmt_seconds(f.unknown_seconds)),
        esc(fmt_seconds(f.maintenance_seconds)),
        esc(f"{f.probes:,}"),
        esc(f"{f.failed:,}"),
    ]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells are already escaped HTML; ``head`` is plain text."""
    out = ["<table><thead><tr>", *(f"<th>{esc(h)}</th>" for h in head), "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    out.append("</tbody></table>")
    return "".join(out)


def _summary(a: AgencySla) -> str:
    cells = [*_figure_cells(a.figures), esc(len(a.incidents)),
             esc(fmt_seconds(a.mtta_seconds)), esc(fmt_seconds(a.mttr_seconds))]  # fmt: skip
    return _table(_SUMMARY_HEAD, [cells])


def _endpoints(a: AgencySla) -> str:
    rows = [[esc(e.id), *_figure_cells(e.figures), esc(e.incidents)] for e in a.endpoints]
    return _table(["Điểm cuối (endpoint)", *_SUMMARY_HEAD[:7]], rows)


def _incident_rows(incidents: Sequence[Incident]) -> str:
    rows = [
        [
            esc(i.endpoint),
            esc(f"{i.start:%Y-%m-%d %H:%M}"),
            esc("đang diễn ra" if i.end is None else f"{i.end:%Y-%m-%d %H:%M}"),
            esc(fmt_seconds(i.duration_seconds)),
            esc(fmt_seconds(i.time_to_acknowledge_seconds)),
            esc(i.acknowledged_by or "-"),
        ]
        for i in incidents
    ]
    head = [
        "Điểm cuối",
        "Bắt đầu",
        "Kết thúc",
        "Thời lượng",
        "Thời gian xác nhận",
        "Người xác nhận",
    ]
    return _table(head, rows)


def _kpis(kpis: Sequence[KpiAttainment], a: AgencySla) -> str:
    if not kpis:
        return '<p class="meta">Không có chỉ tiêu KPI nào có mục tiêu.</p>'
    kpi = overall(kpis)
    total = score(a.figures.availability_percent, kpi)
    return (
        kpi_bars(kpis)
        + f'<p class="meta">Mức đạt KPI: {_pct(kpi)} % · Điểm tổng hợp: {_pct(total)}</p>'
    )


def _agency(data: ReportData, a: AgencySla, index: int) -> str:
    sla = data.sla
    # Times in the tables are local: incidents are shown in the center's time zone.
    incidents = [
        replace(
            i,
            start=i.start.astimezone(data.period.zone),
            end=i.end.astimezone(data.period.zone) if i.end else None,
        )
        for i in a.incidents
    ]
    parts = [
        '<section class="agency">',
        f'<h2>{esc(a.name)} <small class="meta">({esc(a.id)} · {esc(a.kind)})</small></h2>',
        _summary(a),
        "<h3>Khả dụng theo ngày</h3>",
        daily_strip(a.endpoints, data.period.calendar(), f"maint{index}"),
        "<h3>Điểm cuối</h3>",
        _endpoints(a),
        f"<h3>Sự cố ({esc(sla.incident_source)})</h3>",
    ]
    if incidents:
        parts += [timeline(incidents, sla.start, sla.end, sla.until), _incident_rows(incidents)]
    else:
        parts.append('<p class="meta">Không có sự cố.</p>')
    parts += ["<h3>KPI so với mục tiêu</h3>", _kpis(data.kpis.get(a.id, []), a), "</section>"]
    return "".join(parts)


def render_html(data: ReportData) -> str:
    """The whole page; every value from the data is escaped."""
    zone = data.period.zone
    title = f"Báo cáo SLA {data.period.label} · {data.center}"
    legend = (
        '<p class="meta legend">'
        '<span class="g"></span>≥ 99.9 %<span class="a"></span>≥ 99 %'
        '<span class="r"></span>&lt; 99 %<span class="u"></span>không rõ (không có dữ liệu)'
        '<span class="m"></span>bảo trì</p>'
    )
    meta = (
        f'<p class="meta">Kỳ báo cáo: {esc(data.period.label)} ({esc(zone.key)}) · '
        f"số liệu đến {esc(f'{data.sla.until.astimezone(zone):%Y-%m-%d %H:%M}')} · "
        f"lập lúc {esc(f'{data.generated_at.astimezone(zone):%Y-%m-%d %H:%M}')}</p>"
    )
    body = "".join(_agency(data, a, i) for i, a in enumerate(data.sla.agencies))
    return (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1>{meta}{legend}</header>\n{body}\n</body>\n</html>\n"
    )
