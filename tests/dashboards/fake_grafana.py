"""A small imitation of Grafana's HTTP API: folders and dashboards, bearer-token auth.

It answers what ``dashboards push`` calls, as Grafana does (paths, status codes, bodies),
records every request, and rejects what Grafana would reject: a missing or wrong token
(401), a folder without title (400), a dashboard without uid or an existing uid without
``overwrite`` (412), an unknown ``folderUid`` (400).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeGrafana:
    token: str
    folders: dict[str, str] = field(default_factory=dict)  # uid -> title
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> stored
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/api/folders", self._list_folders)
        app.router.add_post("/api/folders", self._create_folder)
        app.router.add_get("/api/dashboards/uid/{uid}", self._get_dashboard)
        app.router.add_post("/api/dashboards/db", self._save_dashboard)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, request.path, body))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"message": "Unauthorized"}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    async def _list_folders(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"id": i, "uid": uid, "title": t} for i, (uid, t) in enumerate(self.folders.items())]
        )

    async def _create_folder(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not body.get("title"):
            return web.json_response({"message": "folder title cannot be empty"}, status=400)
        uid = body.get("uid") or f"f{len(self.folders)}"
        if uid in self.folders:
            return web.json_response({"message": "a folder with that uid exists"}, status=409)
        self.folders[uid] = body["title"]
        return web.json_response({"id": len(self.folders), "uid": uid, "title": body["title"]})

    async def _get_dashboard(self, request: web.Request) -> web.Response:
        stored = self.dashboards.get(request.match_info["uid"])
        if stored is None:
            return web.json_response({"message": "Dashboard not found"}, status=404)
        return web.json_response(stored)

    async def _save_dashboard(self, request: web.Request) -> web.Response:
        body = await request.json()
        dashboard = body.get("dashboard") or {}
        uid = dashboard.get("uid")
        if not uid:
            return web.json_response({"message": "uid required here"}, status=400)
        if body.get("folderUid") not in self.folders:
            return web.json_response({"message": "folder not found"}, status=400)
        previous = self.dashboards.get(uid)
        if previous is not None and not body.get("overwrite"):
            return web.json_response({"status": "name-exists"}, status=412)
        version = 1 if previous is None else previous["dashboard"]["version"] + 1
        # Grafana keeps the JSON as sent, plus the id and version it assigns.
        stored = json.loads(json.dumps(dashboard)) | {"id": 7, "version": version}
        self.dashboards[uid] = {"dashboard": stored, "meta": {"folderUid": body["folderUid"]}}
        return web.json_response(
            {"id": 7, "uid": uid, "status": "success", "version": version, "url": f"/d/{uid}"}
        )
