"""Bodies the simulated portals serve, rendered once per endpoint at start-up.

Rendering up front keeps the request path to a dictionary lookup and a write, which the
probe-throughput benchmark depends on.
"""

from __future__ import annotations

import html
import json
from http import HTTPStatus

from monitor_center.demo.agencies import AgencyInfo

HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"

_PORTAL_TITLES = {
    "platform": "Hệ thống thông tin quốc gia",
    "ministry": "Cổng Dịch vụ công và Hệ thống thông tin một cửa điện tử",
    "province": "Cổng Dịch vụ công và Hệ thống thông tin một cửa điện tử cấp tỉnh",
}
_PORTAL_TEMPLATE = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><title>{name} - {title}</title></head>
<body>
<header><h1>{name}</h1><p lang="en">{name_en}</p><p>{title}</p></header>
<nav><a href="/thu-tuc">Thủ tục hành chính</a> | <a href="/dich-vu-cong">Dịch vụ công
trực tuyến</a> | <a href="/tra-cuu">Tra cứu hồ sơ</a> | <a href="/phan-anh">Phản ánh,
kiến nghị</a></nav>
<main><p>Tiếp nhận, xử lý hồ sơ và trả kết quả giải quyết thủ tục hành chính trực tuyến.</p>
<p data-agency="{agency_id}">Hồ sơ đã tiếp nhận hôm nay, hồ sơ đúng hạn, dịch vụ công
mức độ 4.</p></main>
<footer>Bản quyền thuộc về {name}.</footer>
</body>
</html>
"""
# A maintenance page as a portal's reverse proxy would serve it: 200, but not the portal.
_MAINTENANCE_PAGE = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><title>Bảo trì hệ thống</title></head>
<body><h1>Hệ thống đang bảo trì</h1>
<p>Xin quý khách vui lòng quay lại sau. We are performing scheduled maintenance.</p></body>
</html>
"""


def portal_marker(agency: AgencyInfo) -> str:
    """The string a healthy portal page always contains (its Vietnamese name, as written
    in the HTML) and a wrong-content page never does."""
    return html.escape(agency.name_vi, quote=False)


def portal_page(agency: AgencyInfo) -> bytes:
    """The healthy portal home page of an agency, UTF-8 encoded."""
    return _PORTAL_TEMPLATE.format(
        name=portal_marker(agency),
        name_en=html.escape(agency.name_en, quote=False),
        title=_PORTAL_TITLES.get(agency.kind, _PORTAL_TITLES["platform"]),
        agency_id=html.escape(agency.id),
    ).encode("utf-8")


def maintenance_page() -> bytes:
    """What a portal with the ``wrong_content`` fault serves: no agency name at all."""
    return _MAINTENANCE_PAGE.encode("utf-8")


def health_json(agency: AgencyInfo, *, healthy: bool) -> bytes:
    """The platform API health document: ``status`` is ``ok`` or ``degraded``."""
    checks = {"database": "ok", "message_queue": "ok", "storage": "ok"}
    if not healthy:
        checks["database"] = "timeout"
    document = {
        "status": "ok" if healthy else "degraded",
        "agency": agency.id,
        "service": agency.name_vi,
        "version": "2.4.1",
        "checks": checks,
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def down_body(status: int) -> bytes:
    """The short body of a ``down`` answer, as a load balancer with no backend sends it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{status} {phrase}: no healthy upstream\n".encode()
