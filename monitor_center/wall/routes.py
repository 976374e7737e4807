"""``GET /wall`` and ``GET /wall/static/{path}``: the page and its files, with headers.

Only files found under ``static/`` at start-up, with a known type, are served: the
request path is a key into that index, never joined onto the file system, so no path
can reach outside the folder.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse

from monitor_center.wall.headers import security_headers

WALL_PATH = "/wall"
STATIC_PREFIX = "/wall/static"
STATIC_DIR = Path(__file__).parent / "static"
PAGE_FILE = "wall.html"

# Explicit types rather than the platform's mimetypes table, which differs between
# systems (application/javascript vs text/javascript) and would need nosniff to agree.
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
HTML_TYPE = "text/html; charset=utf-8"


def static_index(root: Path = STATIC_DIR) -> dict[str, tuple[Path, str]]:
    """Servable files under ``root``: relative POSIX path -> (file, media type)."""
    index: dict[str, tuple[Path, str]] = {}
    for path in sorted(root.rglob("*")):
        media_type = MEDIA_TYPES.get(path.suffix.lower())
        if path.is_file() and media_type is not None:
            index[path.relative_to(root).as_posix()] = (path, media_type)
    return index


def add_wall_routes(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    """Register the wall page and its static files on ``app`` (left out of OpenAPI)."""
    page = static_dir / PAGE_FILE
    files = static_index(static_dir)

    @app.get(WALL_PATH, include_in_schema=False)
    async def wall_page(request: Request) -> Response:
        """The page; no token here: it travels in the fragment, which never reaches us."""
        return FileResponse(page, media_type=HTML_TYPE, headers=_headers(request))

    @app.get(STATIC_PREFIX + "/{name:path}", include_in_schema=False)
    async def wall_static(name: str, request: Request) -> Response:
        found = files.get(name)
        if found is None:
            return Response(
                "not found\n",
                status_code=404,
                media_type="text/plain; charset=utf-8",
                headers=_headers(request),
            )
        path, media_type = found
        return FileResponse(path, media_type=media_type, headers=_headers(request))


def _headers(request: Request) -> dict[str, str]:
    return security_headers(request.headers.get("host"))
