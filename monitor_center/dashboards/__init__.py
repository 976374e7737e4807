"""Grafana dashboards as code (grafana-foundation-sdk) for the center's database.

``build_all()`` gives each dashboard's JSON model by file name; ``render`` writes them
(``monitor-center dashboards build``) and ``push`` uploads them to a running Grafana
(``monitor-center dashboards push``). The committed copies live in ``dashboards/json/``.
"""

from __future__ import annotations

from monitor_center.dashboards.render import DASHBOARDS, build_all, render_all, write_all

__all__ = ["DASHBOARDS", "build_all", "render_all", "write_all"]
