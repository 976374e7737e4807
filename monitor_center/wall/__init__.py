"""The center's wall page: ``GET /wall`` and its assets under ``/wall/static/``.

The page holds no data: it reads everything from the live feed (``/ws/live``) with a
token kept in the browser, so the page and its assets are served without authentication.
"""

from monitor_center.wall.headers import content_security_policy, security_headers
from monitor_center.wall.routes import STATIC_DIR, WALL_PATH, add_wall_routes

__all__ = [
    "STATIC_DIR",
    "WALL_PATH",
    "add_wall_routes",
    "content_security_policy",
    "security_headers",
]
